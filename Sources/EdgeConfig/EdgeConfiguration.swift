/// The agent's configuration, as read from `/etc/emnify-edge/emnify-edge.toml`.
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
    public var log = LogConfig()

    public init() {}
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

    public init() {}
}

/// `[mqtt]`: the gateway's local broker.
public struct MQTTConfig: Sendable, Equatable {
    public enum ProtocolVersion: String, Sendable, Equatable, CaseIterable {
        case auto, v5 = "5", v311 = "3.1.1"
    }

    /// An address, not `localhost`: libmosquitto tries only the first address a name resolves to
    /// (often `::1`), and brokers commonly listen on 127.0.0.1 only.
    public var host = "127.0.0.1"
    public var port = 1883
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
}

/// `[log]`
public struct LogConfig: Sendable, Equatable {
    public enum Level: String, Sendable, Equatable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public var level: Level = .info

    public init() {}
}
