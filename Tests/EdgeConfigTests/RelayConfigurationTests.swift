import EdgeConfig
import Foundation
import Testing

/// The problems `text` has as the relay's file, or an issue when it has none.
func relayProblems(in text: String) -> [ConfigurationProblem] {
    do {
        _ = try ConfigurationLoader.parse(text, source: "relay.toml", role: .relay)
        Issue.record("expected problems, the text parsed")
        return []
    } catch {
        return error.problems
    }
}

/// (text, key of the one problem, fragment of its message)
private let invalidRelayCases: [(String, String, String)] = [
    ("[relay]\nlisten = \"127.0.0.1\"", "relay.listen", "has no port; write \"127.0.0.1:8088\""),
    ("[relay]\nlisten = \"::1:8088\"", "relay.listen", "in brackets, e.g. \"[::1]:8088\""),
    ("[relay]\nlisten = \"[::1:8088\"", "relay.listen", "no closing ]"),
    ("[relay]\nlisten = \"0.0.0.0:0\"", "relay.listen", "1 to 65535"),
    ("[relay]\nlisten = \"http://0.0.0.0:8088\"", "relay.listen", "is a URL"),
    ("[relay]\nlisten = 8088", "relay.listen", "expected a string"),
    ("[relay]\nwebhook_path = \"emnify/events\"", "relay.webhook_path", "must start with /"),
    ("[relay]\nwebhook_path = \"/events?token=x\"", "relay.webhook_path", "? or #"),
    ("[relay]\nwebhook_path = \"/a b\"", "relay.webhook_path", "without blanks"),
    ("[relay]\nwebhook_path = \"/a//b\"", "relay.webhook_path", "empty, . or .. segment"),
    ("[relay]\nwebhook_token_file = \"webhook-token\"", "relay.webhook_token_file", "absolute path"),
    ("[relay]\npoll_interval = \"never\"", "relay.poll_interval", "or \"off\""),
    ("[relay]\npoll_interval = \"100ms\"", "relay.poll_interval", "once a second"),
    ("[relay]\nbackfill = \"31d\"", "relay.backfill", "the most is 30d"),
    ("[relay]\nlook_back = 0", "relay.look_back", "greater than zero"),
    ("[relay]\nstate_dir = \"state\"", "relay.state_dir", "absolute path"),
    ("[relay]\nmax_body_size = 1024", "relay.max_body_size", "out of range"),
    ("[relay]\nack_timeout = \"1h\"", "relay.ack_timeout", "the most is 10m"),
    ("[relay]\nrelay_id = \"relay a\"", "relay.relay_id", "not a relay name"),
    ("[relay]\nrelay_id = \"\"", "relay.relay_id", "remove the line"),
    ("[relay]\ntls_certificate = \"/etc/cert.pem\"", "relay.tls_certificate", "needs relay.tls_key"),
    ("[relay]\ntls_key = \"/etc/key.pem\"", "relay.tls_key", "needs relay.tls_certificate"),
    ("[mqtt]\nhosts = \"nats-1:1883\"", "mqtt.hosts", "write [\"nats-1:1883\"]"),
    ("[mqtt]\nhosts = []", "mqtt.hosts", "the list is empty"),
    ("[mqtt]\nhosts = [\"nats-1:1883\", \"nats-2\"]", "mqtt.hosts", "entry 2: \"nats-2\" has no port"),
    ("[mqtt]\nhosts = [\"nats-1:1883\", 1883]", "mqtt.hosts", "entry 2 is an integer"),
    ("[mqtt]\nhosts = [\"a:1883\", \"a:1883\"]", "mqtt.hosts", "listed twice"),
    ("[mqtt]\nhost = \"a\"\nhosts = [\"b:1883\"]", "mqtt.host", "mqtt.hosts is set, so mqtt.host must not be"),
    ("[mqtt]\nhosts = [\"b:1883\"]\nport = 1884", "mqtt.port", "mqtt.hosts is set, so mqtt.port must not be"),
    ("[mqtt]\npassword_file = \"/p\"", "mqtt.password_file", "username"),
    ("[api]\ntimeout = \"5s\"\nconnect_timeout = \"10s\"", "api.connect_timeout", "api.timeout"),
]

@Suite struct RelayConfigurationTests {
    @Test func emptyFileGivesTheDefaults() throws {
        let configuration = try ConfigurationLoader.parse("", source: "relay.toml", role: .relay)
        #expect(configuration == EdgeConfiguration())
        let relay = configuration.relay
        #expect(relay.listen == HostAndPort(host: "127.0.0.1", port: 8088))
        #expect(relay.tlsCertificate == nil && relay.tlsKey == nil && !relay.usesTLS)
        #expect(relay.webhookPath == "/emnify/events")
        #expect(relay.webhookTokenFile == "/etc/emnify-edge/webhook-token")
        #expect(relay.pollInterval == .seconds(60))
        #expect(relay.backfill == .seconds(86_400) && relay.lookBack == .seconds(600))
        #expect(relay.stateDir == "/var/lib/emnify-edge-relay")
        #expect(relay.maxBodySize == 32 * 1024 * 1024)
        #expect(relay.ackTimeout == .seconds(10))
        #expect(relay.relayID == nil)
        #expect(configuration.mqtt.hosts.isEmpty)
        #expect(configuration.mqtt.brokers == [HostAndPort(host: "127.0.0.1", port: 1883)])
    }

    @Test func everyRelayKeyIsParsed() throws {
        let text = """
            [api]
            url = "https://api.example.com"
            [mqtt]
            hosts = ["nats-2.example.net:1883", "10.0.0.23:8883",
                     "[fd00::21]:1883"]  # in this order
            username = "relay"
            password_file = "/etc/emnify-edge/mqtt-password"
            protocol = "3.1.1"
            [relay]
            listen = "[::1]:9443"
            tls_certificate = "/etc/emnify-edge/relay-cert.pem"
            tls_key = "/etc/emnify-edge/relay-key.pem"
            webhook_path = "/hooks/emnify"
            webhook_token_file = "/run/secrets/webhook"
            poll_interval = "off"
            backfill = "2d"
            look_back = "15m"
            state_dir = "/srv/relay"
            max_body_size = 1048576
            ack_timeout = "20s"
            relay_id = "relay-b.example.net"
            [log]
            level = "debug"
            """
        let configuration = try ConfigurationLoader.parse(text, source: "relay.toml", role: .relay)
        #expect(
            configuration.mqtt.hosts == [
                HostAndPort(host: "nats-2.example.net", port: 1883), HostAndPort(host: "10.0.0.23", port: 8883),
                HostAndPort(host: "fd00::21", port: 1883),
            ])
        #expect(configuration.mqtt.brokers == configuration.mqtt.hosts, "the nodes, in the file's order")
        #expect(
            configuration.mqtt.hosts.map(\.description) == [
                "nats-2.example.net:1883", "10.0.0.23:8883", "[fd00::21]:1883",
            ])
        #expect(configuration.mqtt.protocolVersion == .v311)
        let relay = configuration.relay
        #expect(relay.listen == HostAndPort(host: "::1", port: 9443))
        #expect(relay.usesTLS)
        #expect(relay.webhookPath == "/hooks/emnify")
        #expect(relay.webhookTokenFile == "/run/secrets/webhook")
        #expect(relay.pollInterval == nil)
        #expect(relay.backfill == .seconds(2 * 86_400) && relay.lookBack == .seconds(900))
        #expect(relay.stateDir == "/srv/relay")
        #expect(relay.maxBodySize == 1_048_576)
        #expect(relay.ackTimeout == .seconds(20))
        #expect(relay.relayID == "relay-b.example.net")
        #expect(configuration.log.level == .debug)
        // The agent's sections keep their defaults.
        #expect(configuration.agent == AgentConfig() && configuration.modem == ModemConfig())
    }

    @Test func pollIntervalOffInAnyCase() throws {
        for text in ["\"off\"", "\"OFF\"", "\"Off\""] {
            let configuration = try ConfigurationLoader.parse(
                "[relay]\npoll_interval = \(text)", source: "relay.toml", role: .relay)
            #expect(configuration.relay.pollInterval == nil)
        }
        let every = try ConfigurationLoader.parse("[relay]\npoll_interval = 30", source: "relay.toml", role: .relay)
        #expect(every.relay.pollInterval == .seconds(30))
    }

    @Test(arguments: invalidRelayCases)
    func invalidValuesAreReported(text: String, key: String, fragment: String) {
        let found = relayProblems(in: text)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.key == key)
        #expect(found.first?.message.contains(fragment) == true, "\(found.first?.message ?? "")")
    }

    @Test func problemsNameTheirLine() {
        let found = relayProblems(in: "[api]\nurl = \"https://x\"\n\n[mqtt]\nhost = \"a\"\nhosts = [\"b:1883\"]\n")
        #expect(found.map(\.line) == [5])
        #expect(
            found.first?.description(in: "/etc/emnify-edge/relay.toml").hasPrefix(
                "/etc/emnify-edge/relay.toml:5: mqtt.host: mqtt.hosts is set") == true)
    }

    /// The agent's sections in the relay's file say which file they belong in.
    @Test func theAgentsSectionsAreRefusedNamingTheAgentsFile() {
        let found = relayProblems(in: "[modem]\nsource = \"auto\"\n[agent]\npoll_interval = \"30s\"\n")
        #expect(found.map(\.key) == ["modem", "agent"])
        #expect(found.map(\.line) == [1, 3])
        for problem in found {
            #expect(
                problem.message.contains(
                    "belongs in the agent's file (/etc/emnify-edge/emnify-edge.toml, emnify-edge run)"))
            #expect(problem.message.contains("remove it from this file"))
        }
        #expect(found[1].message.contains("poll_interval, backfill, look_back and state_dir are in [relay]"))
    }

    /// ... and the relay's section in the agent's file.
    @Test func theRelaysSectionIsRefusedInTheAgentsFile() {
        let found = problems(in: "[relay]\nlisten = \"127.0.0.1:8088\"\n")
        #expect(found.map(\.key) == ["relay"])
        #expect(
            found.first?.message.contains(
                "belongs in the relay's file (/etc/emnify-edge/relay.toml, emnify-edge relay)") == true)
    }

    /// `hosts` is the relay's: the agent talks to the gateway's own broker.
    @Test func theAgentRefusesHosts() {
        let found = problems(in: "[mqtt]\nhosts = [\"a:1883\"]\n")
        #expect(found.map(\.key) == ["mqtt.hosts"])
        #expect(found.first?.message.hasPrefix("unknown key hosts in [mqtt]") == true)
    }

    @Test func unknownKeysGetSuggestionsAmongTheRelaysKeys() {
        let typo = relayProblems(in: "[relay]\npoll_intervall = \"1m\"\n")
        #expect(typo.first?.message == "unknown key poll_intervall in [relay]; did you mean poll_interval?")
        let misplaced = relayProblems(in: "[relay]\ntopic_prefix = \"fleet\"\n")
        #expect(misplaced.first?.message == "unknown key topic_prefix in [relay]; topic_prefix belongs in [mqtt]")
        let section = relayProblems(in: "[rellay]\n")
        #expect(section.first?.message == "unknown section [rellay]; did you mean [relay]?")
        let keyAsSection = relayProblems(in: "[webhook_path]\n")
        #expect(
            keyAsSection.first?.message
                == "unknown section [webhook_path]; webhook_path is a key, it belongs in [relay]")
    }

    @Test func hostAndPortForms() {
        #expect(HostAndPort("nats-1:1883") == HostAndPort(host: "nats-1", port: 1883))
        #expect(HostAndPort("[::1]:8088") == HostAndPort(host: "::1", port: 8088))
        #expect(HostAndPort("[::1]:8088")?.description == "[::1]:8088")
        for bad in ["nats-1", "::1", "[::1]", "a:b", "a:+80", "a:65536", ":1883", "a b:1", "mqtt://a:1"] {
            #expect(HostAndPort(bad) == nil, "\(bad)")
        }
    }

    @Test func roleFollowsTheFileName() {
        #expect(ConfigurationRole.detected(forPath: "/etc/emnify-edge/relay.toml") == .relay)
        #expect(ConfigurationRole.detected(forPath: "relay.toml") == .relay)
        #expect(ConfigurationRole.detected(forPath: "/etc/emnify-edge/emnify-edge.toml") == .agent)
        #expect(ConfigurationRole.detected(forPath: "/srv/my-relay.toml") == .agent)
    }

    @Test func aMissingRelayFileNamesTheRelaysDefault() {
        let atDefault = ConfigurationError.notFound(path: "/etc/emnify-edge/relay.toml", role: .relay).description
        #expect(atDefault.contains("apt-get install --reinstall emnify-edge"))
        let given = ConfigurationError.notFound(path: "/srv/r.toml", role: .relay).description
        #expect(given.contains("/etc/emnify-edge/relay.toml holds the commented default"))
        #expect(throws: ConfigurationError.notFound(path: "/nonexistent/relay.toml", role: .relay)) {
            try ConfigurationLoader.load(contentsOf: "/nonexistent/relay.toml", role: .relay)
        }
    }

    @Test func keyTableServesBothRoles() {
        for role in ConfigurationRole.allCases {
            let keys = ConfigurationKey.keys(for: role)
            #expect(Set(keys.map(\.path)).count == keys.count, "no key twice in \(role)")
            for key in keys {
                #expect(role.sections.contains(key.section), "\(key.path) in \(role)")
                #expect(ConfigurationKey.named(key.section, key.name, role: role) != nil)
            }
            #expect(Set(keys.map(\.section)) == Set(role.sections))
            // The references and man pages list a role's keys in table order: it must be the sections' order.
            var order: [String] = []
            for key in keys where !order.contains(key.section) { order.append(key.section) }
            #expect(order == role.sections, "\(role)'s keys in the order of its sections")
        }
        #expect(ConfigurationKey.all.map(\.path) == ConfigurationKey.keys(for: .agent).map(\.path))
        #expect(ConfigurationKey.sections == ConfigurationRole.agent.sections)
        let relayPaths = Set(ConfigurationKey.keys(for: .relay).map(\.path))
        let agentPaths = Set(ConfigurationKey.all.map(\.path))
        #expect(relayPaths.subtracting(agentPaths).filter { !$0.hasPrefix("relay.") } == ["mqtt.hosts"])
        #expect(agentPaths.subtracting(relayPaths).allSatisfy { $0.hasPrefix("modem.") || $0.hasPrefix("agent.") })
        #expect(ConfigurationKey.named("mqtt", "hosts") == nil, "not the agent's")
    }

    /// The relay's defaults written out as TOML read back as the defaults.
    @Test func renderedDefaultsRoundTrip() throws {
        var text = ""
        for section in ConfigurationRole.relay.sections {
            text += "[\(section)]\n"
            for key in ConfigurationKey.keys(for: .relay) where key.section == section {
                if let value = key.render(EdgeConfiguration()) { text += "\(key.name) = \(value)\n" }
            }
        }
        #expect(text.contains("poll_interval = \"1m\"\n"))
        #expect(try ConfigurationLoader.parse(text, source: "rendered", role: .relay) == EdgeConfiguration())
        var off = EdgeConfiguration()
        off.relay.pollInterval = nil
        #expect(ConfigurationKey.named("relay", "poll_interval", role: .relay)?.render(off) == "\"off\"")
    }

    @Test func referenceHasTheRelaysSections() {
        let markdown = ConfigurationReference.markdown(role: .relay)
        let headers = markdown.split(separator: "\n").filter { $0.hasPrefix("### ") }
        #expect(headers == ["### `[api]`", "### `[mqtt]`", "### `[relay]`", "### `[log]`"])
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| `") }
        #expect(rows.count == ConfigurationKey.keys(for: .relay).count)
        #expect(markdown.contains("| `hosts` | array of \"host:port\" | unset: one broker: host and port |"))
        #expect(markdown.contains("| `poll_interval` | duration or \"off\" | `\"1m\"` |"))
        #expect(markdown.contains("| `listen` | \"host:port\" | `\"127.0.0.1:8088\"` |"))
        #expect(markdown.contains("NATS speaks 3.1.1 only"), "the relay's words for mqtt.protocol")
        #expect(!ConfigurationReference.markdown().contains("NATS"), "the agent's reference is unchanged")
    }

    /// The relay's client id defaults to emnify-edge-relay-<relay_id> (EdgeRelay), not the agent's
    /// emnify-edge-<hostname>: each reference says its own.
    @Test func clientIDDefaultIsTheRolesOwn() {
        #expect(
            ConfigurationReference.markdown(role: .relay).contains(
                "| `client_id` | string | unset: emnify-edge-relay-<relay_id> |"))
        #expect(
            ConfigurationReference.markdown(role: .agent).contains(
                "| `client_id` | string | unset: emnify-edge-<hostname> |"))
        #expect(ConfigurationKey.named("mqtt", "client_id")?.unsetMeaning == "emnify-edge-<hostname>")
    }
}
