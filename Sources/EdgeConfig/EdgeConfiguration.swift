/// The configuration of either role, as read from `/etc/emnify-edge/emnify-edge.toml` (the agent:
/// `[api]`, `[modem]`, `[agent]`, `[mqtt]`, `[log]`) or `/etc/emnify-edge/relay.toml` (the fleet
/// relay: `[api]`, `[mqtt]`, `[relay]`, `[log]`); the sections a role does not read keep their defaults.
///
/// Every key has a default, so an empty file is a valid configuration. Field names are the
/// TOML keys in camel case (`token_file` → `tokenFile`). The modules that do the work
/// (API client, modem reader, MQTT) take their own settings types; the executable maps
/// these sections onto them, so this module knows none of them.
public struct EdgeConfiguration: Sendable, Equatable {
    public var api = APIConfig()
    public var modem = ModemConfig()
    public var agent = AgentConfig()
    public var mqtt = MQTTConfig()
    /// The relay's own section; the agent's file has none.
    public var relay = RelayConfig()
    public var log = LogConfig()

    public init() {}

    /// The state directory of `role`'s daemon: `agent.state_dir` or `relay.state_dir`.
    public func stateDir(for role: ConfigurationRole) -> String {
        switch role {
        case .agent: return agent.stateDir
        case .relay: return relay.stateDir
        }
    }
}

/// `[api]`: where emnify's REST API is and how to reach it.
public struct APIConfig: Sendable, Equatable {
    public var url = "https://cdn.emnify.net"
    /// File holding the application token; also `EMNIFY_APPLICATION_TOKEN` or the systemd
    /// credential `application-token` (see `ApplicationTokenSource`).
    public var tokenFile = "/etc/emnify-edge/application-token"
    /// PEM bundle that replaces the system trust store; nil means the system store.
    public var caFile: String? = nil
    /// Total time one request may take.
    public var timeout: Duration = .seconds(30)
    /// Time to set up the TCP connection and TLS handshake.
    public var connectTimeout: Duration = .seconds(10)
    /// A response larger than this is refused with a clear error instead of filling memory.
    public var maxResponseSize = 8 * 1024 * 1024

    public init() {}
}

/// `[modem]`: where the SIM's identity comes from.
public struct ModemConfig: Sendable, Equatable {
    public enum Source: String, Sendable, Equatable, CaseIterable {
        case auto, modemmanager, at, `static`
    }

    public var source: Source = .auto
    /// A board profile name from `firmware-config/boards/` (e.g. `quectel-ec25`).
    public var board: String? = nil
    /// Path of the `mmcli` executable; nil means search `PATH`.
    public var mmcli: String? = nil
    /// Serial AT port, e.g. `/dev/ttyUSB2`.
    public var atPort: String? = nil
    /// Vendor command that reads the ICCID, e.g. `AT+QCCID`; nil means the board's or a probe.
    public var iccidCommand: String? = nil
    /// Static identity (`source = "static"`, or to pin the SIM on a bench).
    public var iccid: String? = nil
    public var imei: String? = nil
    public var imsi: String? = nil
    /// How long one mmcli call or one AT command may take.
    public var timeout: Duration = .seconds(10)

    public init() {}
}

/// `[agent]`: the daemon's polling and state.
public struct AgentConfig: Sendable, Equatable {
    public var stateDir = "/var/lib/emnify-edge"
    public var pollInterval: Duration = .seconds(60)
    /// History published on first start.
    public var backfill: Duration = .seconds(24 * 3600)
    /// How late an event may appear in the API and still be published (see `AgentSettings.fullReadPeriod`).
    public var lookBack: Duration = .seconds(600)
    /// Where events come from: the API's feeds (`poll`), or the fleet cluster through the local
    /// broker's bridge (`bridge`), the API only to close a gap.
    public var events: EventSource = .poll
    /// In bridge mode: this long without any bridged message (the relays re-announce their status
    /// every few minutes) while the bridge says it is connected, and the agent reconciles from the API.
    public var quietLimit: Duration = .seconds(900)

    public enum EventSource: String, Sendable, Equatable, CaseIterable {
        case poll
        case bridge
    }

    public init() {}
}

/// `[mqtt]`: the gateway's local broker (the agent), or the MQTT cluster (the relay).
public struct MQTTConfig: Sendable, Equatable {
    public enum ProtocolVersion: String, Sendable, Equatable, CaseIterable {
        case auto, v5 = "5", v311 = "3.1.1"
    }

    /// An address, not `localhost`: libmosquitto tries only the first address a name resolves to
    /// (often `::1`), and brokers commonly listen on 127.0.0.1 only.
    public var host = "127.0.0.1"
    public var port = 1883
    /// The relay only (`hosts = ["nats-1:1883", …]`): the cluster's nodes, tried in this order (the next
    /// one when a node is down). Empty means the one broker at `host`:`port`; both at once are refused.
    public var hosts: [HostAndPort] = []
    /// nil means `emnify-edge-<hostname>`.
    public var clientID: String? = nil
    public var topicPrefix = "emnify"
    public var username: String? = nil
    public var passwordFile: String? = nil
    /// TLS to the broker: CA bundle, client certificate and key (all optional).
    public var caFile: String? = nil
    public var certFile: String? = nil
    public var keyFile: String? = nil
    public var keepalive: Duration = .seconds(60)
    public var protocolVersion: ProtocolVersion = .auto

    public init() {}

    /// The brokers to try, in order: `hosts`, or `host`:`port` when it is empty.
    public var brokers: [HostAndPort] {
        hosts.isEmpty ? [HostAndPort(host: host, port: port)] : hosts
    }
}

/// `[relay]`: the fleet relay's webhook for emnify's Data Streamer, its org-wide polling of
/// `GET /api/v1/event`, and its state.
public struct RelayConfig: Sendable, Equatable {
    /// Where the webhook listens (`"[::1]:8088"` for IPv6).
    public var listen = HostAndPort(host: "127.0.0.1", port: 8088)
    /// PEM certificate chain and private key: both set means HTTPS, neither plain HTTP (behind a
    /// TLS-terminating proxy).
    public var tlsCertificate: String? = nil
    public var tlsKey: String? = nil
    /// The path the Data Streamer posts to.
    public var webhookPath = "/emnify/events"
    /// The secret the Data Streamer sends as `Authorization: Bearer <secret>`; also
    /// `EMNIFY_WEBHOOK_TOKEN` or the systemd credential `webhook-token` (see `WebhookTokenSource`).
    public var webhookTokenFile = "/etc/emnify-edge/webhook-token"
    /// Time between two org-wide polls; nil (`"off"`) means the webhook alone.
    public var pollInterval: Duration? = .seconds(60)
    /// History polled on first start.
    public var backfill: Duration = .seconds(24 * 3600)
    /// How late an event may appear in the API and still be published.
    public var lookBack: Duration = .seconds(600)
    public var stateDir = "/var/lib/emnify-edge-relay"
    /// A larger webhook request is refused (413). A Data Streamer bulk request holds up to 10,000 events.
    public var maxBodySize = 32 * 1024 * 1024
    /// How long the webhook waits for the cluster's PUBACKs before it answers 503 (the Data Streamer retries).
    public var ackTimeout: Duration = .seconds(10)
    /// This relay's name among the fleet's relays (which one polls); nil means the host name.
    public var relayID: String? = nil

    public init() {}

    /// The webhook is served over HTTPS (`tls_certificate` and `tls_key` are set).
    public var usesTLS: Bool { tlsCertificate != nil && tlsKey != nil }
}

/// `[log]`
public struct LogConfig: Sendable, Equatable {
    public enum Level: String, Sendable, Equatable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public var level: Level = .info

    public init() {}
}
