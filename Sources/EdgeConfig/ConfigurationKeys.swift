/// Every key of both roles' files, in the order the references and the shipped files list them.
///
/// The loader accepts exactly a role's keys (anything else is an error with a suggestion), the
/// reference tables are rendered from them (`ConfigurationReference`), and the shipped files'
/// tests check that each names its role's keys. Defaults live in `EdgeConfiguration`'s initialisers.
extension ConfigurationKey {
    /// The sections of the agent's `emnify-edge.toml`.
    public static let sections = ConfigurationRole.agent.sections

    /// Every key of the agent's `emnify-edge.toml`.
    public static let all: [ConfigurationKey] = keys(for: .agent)

    /// Every key of both files; `roles` says which file has it.
    public static let table: [ConfigurationKey] = agentAndShared + relaySection + logSection

    /// One role's keys, in table order.
    public static func keys(for role: ConfigurationRole) -> [ConfigurationKey] {
        table.filter { $0.roles.contains(role) }
    }

    /// The key at `section.name` in the agent's file, if there is one.
    public static func named(_ section: String, _ name: String) -> ConfigurationKey? {
        named(section, name, role: .agent)
    }

    /// The key at `section.name` in `role`'s file, if there is one.
    public static func named(_ section: String, _ name: String, role: ConfigurationRole) -> ConfigurationKey? {
        table.first { $0.section == section && $0.name == name && $0.roles.contains(role) }
    }

    private static let agentAndShared: [ConfigurationKey] = [
        // [api]
        .string(
            "api", "url", \.api.url, type: "URL", check: Validators.apiURL,
            "Base URL of the emnify REST API. Must be https://; plain http:// only for a local emulator."
        ),
        .string(
            "api", "token_file", \.api.tokenFile, type: "path", check: Validators.absolutePath,
            "File holding the emnify application token (mode 0600). EMNIFY_APPLICATION_TOKEN and the systemd "
                + "credential application-token take precedence."
        ),
        .optionalString(
            "api", "ca_file", \.api.caFile, type: "path", unset: "the system trust store",
            check: Validators.absolutePath,
            "PEM bundle that replaces the system trust store. TLS verification cannot be turned off."
        ),
        .duration("api", "timeout", \.api.timeout, "Total time one API request may take."),
        .duration(
            "api", "connect_timeout", \.api.connectTimeout,
            "Time to set up the TCP connection and the TLS handshake."
        ),
        .integer(
            "api", "max_response_size", \.api.maxResponseSize, range: 65_536...1_073_741_824,
            type: "integer, bytes (64 KiB–1 GiB)",
            "A larger API response is refused with a clear error instead of filling memory."
        ),

        // [modem]
        .choice(
            "modem", "source", \.modem.source,
            "Where the SIM's identity comes from: auto tries ModemManager, then AT commands, then the static values."
        ),
        .optionalString(
            "modem", "board", \.modem.board, type: "name", unset: "no board profile", check: Validators.boardName,
            "Board profile from firmware-config/boards/ (e.g. \"quectel-ec25\") naming the AT port and ICCID command."
        ),
        .optionalString(
            "modem", "mmcli", \.modem.mmcli, type: "path", unset: "mmcli found on PATH",
            check: Validators.absolutePath, "Path of the mmcli executable."
        ),
        .optionalString(
            "modem", "at_port", \.modem.atPort, type: "path", unset: "the board profile's port",
            check: Validators.absolutePath,
            "Serial AT port, e.g. \"/dev/ttyUSB2\"; never used while ModemManager owns it."
        ),
        .optionalString(
            "modem", "iccid_command", \.modem.iccidCommand, type: "AT command",
            unset: "the board profile's command, else a probe", check: Validators.atCommand,
            "Vendor command that reads the ICCID, e.g. \"AT+QCCID\"."
        ),
        .optionalString(
            "modem", "iccid", \.modem.iccid, type: "ICCID", unset: "read from the modem", check: Validators.iccid,
            "Static ICCID (18–20 digits) for source = \"static\", or to pin the SIM on a bench."
        ),
        .optionalString(
            "modem", "imei", \.modem.imei, type: "IMEI", unset: "read from the modem",
            check: { Validators.digits($0, name: "IMEI", counts: 15...16) },
            "Static IMEI (15 digits; 16 for an IMEISV)."
        ),
        .optionalString(
            "modem", "imsi", \.modem.imsi, type: "IMSI", unset: "read from the modem",
            check: { Validators.digits($0, name: "IMSI", counts: 6...15) }, "Static IMSI (up to 15 digits)."
        ),
        .duration("modem", "timeout", \.modem.timeout, "How long one mmcli call or one AT command may take."),

        // [agent]
        .string(
            "agent", "state_dir", \.agent.stateDir, type: "path", check: Validators.absolutePath,
            "Directory for the feed cursors and the cached API token."
        ),
        .duration(
            "agent", "poll_interval", \.agent.pollInterval,
            // Below 1 s only against an API on this machine (the cross-check): the benchmark's 10,000 idle polls.
            check: { $0 < .milliseconds(100) ? "poll at most once a second; the fleet shares one API quota" : nil },
            "Time between two polls of the event feeds (with jitter; faster for a while after an event). At least "
                + "1s (down to 100ms against an API on this machine, such as the built-in emulator)."
        ),
        .duration(
            "agent", "backfill", \.agent.backfill, max: .seconds(30 * 86_400),
            "History published on first start. emnify keeps events for 30 days."
        ),
        .duration(
            "agent", "look_back", \.agent.lookBack, max: .seconds(30 * 86_400),
            "How late an event may appear in the API and still be published; the whole window is read again "
                + "every look_back / 2."
        ),
        .choice(
            "agent", "events", \.agent.events,
            "Where events come from: poll reads the emnify API's feeds; bridge takes them from the fleet cluster "
                + "through the local broker's bridge and calls the API only to close a gap."
        ),
        .duration(
            "agent", "quiet_limit", \.agent.quietLimit,
            check: { $0 < .seconds(600) ? "at least 10m: the relays re-announce their status every 5 minutes" : nil },
            "Bridge mode: this long without any bridged message while the bridge is up, and the agent reads the API "
                + "to close a possible gap, then polls until the bridge brings something; it also polls while the "
                + "bridge stays down this long."
        ),

        // [mqtt]
        .string(
            "mqtt", "host", \.mqtt.host, type: "host", check: Validators.brokerHost, "Host of the local MQTT broker."
        ).described("Host of the one MQTT broker; for a cluster use hosts instead.", for: .relay),
        .integer("mqtt", "port", \.mqtt.port, range: 1...65535, "Port of the MQTT broker (8883 is usual with TLS).")
            .described("Port of the one MQTT broker (8883 is usual with TLS); for a cluster use hosts.", for: .relay),
        .addresses(
            "mqtt", "hosts", \.mqtt.hosts, examplePort: 1883, unset: "one broker: host and port",
            "The MQTT cluster's nodes, tried in this order: when one cannot be reached the next is. Instead of host "
                + "and port, which must then not be set."
        ).only(.relay),
        .optionalString(
            "mqtt", "client_id", \.mqtt.clientID, unset: "emnify-edge-<hostname>", check: Validators.clientID,
            "MQTT client identifier; must be unique on the broker."
        ).described(unset: "emnify-edge-relay-<relay_id>", for: .relay),
        .string(
            "mqtt", "topic_prefix", \.mqtt.topicPrefix, check: Validators.topicPrefix,
            "First topic level: topics are <prefix>/<iccid>/event/<type>, …/state, …/identity, …/status, …/health."
        ),
        .optionalString(
            "mqtt", "username", \.mqtt.username, unset: "no authentication", "User name for the broker."
        ),
        .optionalString(
            "mqtt", "password_file", \.mqtt.passwordFile, type: "path", unset: "no password",
            check: Validators.absolutePath, "File holding the broker password (mode 0600)."
        ),
        .optionalString(
            "mqtt", "ca_file", \.mqtt.caFile, type: "path", unset: "no TLS", check: Validators.absolutePath,
            "PEM CA bundle for TLS to the broker; setting it turns TLS on."
        ),
        .optionalString(
            "mqtt", "cert_file", \.mqtt.certFile, type: "path", unset: "no client certificate",
            check: Validators.absolutePath, "Client certificate (PEM) for TLS; needs key_file."
        ),
        .optionalString(
            "mqtt", "key_file", \.mqtt.keyFile, type: "path", unset: "no client certificate",
            check: Validators.absolutePath, "Private key (PEM) of the client certificate (mode 0600)."
        ),
        .duration(
            "mqtt", "keepalive", \.mqtt.keepalive, max: .seconds(65535),
            check: { $0 < .seconds(1) ? "the keepalive is counted in whole seconds; use at least \"1s\"" : nil },
            "MQTT keepalive interval; the broker sees the agent as gone after 1.5 times this."
        ).described("MQTT keepalive interval; the broker sees the relay as gone after 1.5 times this.", for: .relay),
        .choice(
            "mqtt", "protocol", \.mqtt.protocolVersion,
            "MQTT protocol version: auto tries MQTT 5, then 3.1.1."
        ).described("MQTT protocol version: auto tries MQTT 5, then 3.1.1; NATS speaks 3.1.1 only.", for: .relay),
    ]

    private static let logSection: [ConfigurationKey] = [
        .choice("log", "level", \.log.level, "Least severe log level written to stderr (the journal under systemd).")
    ]
}
