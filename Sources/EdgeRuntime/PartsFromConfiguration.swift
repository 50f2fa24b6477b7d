import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EmnifyAPI
import Logging
import ModemIdentity

/// The one mapping from the configuration's sections to the settings of each part. `run`,
/// `diagnose`, `events` and `identity` all build their parts here, so the checks see what the
/// agent sees.
extension EmnifyClient {
    /// The API client of `[api]`, sharing the agent's token cache and login pause when the state
    /// directory exists (a diagnosis must not spend a login the agent is waiting out: three
    /// failures lock the account).
    public static func configured(
        _ api: APIConfig, stateDirectory: String, token: Secret, userAgent: String, retry: RetryPolicy,
        clock: any WallClock = SystemWallClock(), initialUsage: UsageCounters? = nil
    ) throws(TransportError) -> EmnifyClient {
        let transport = try CurlTransport(
            settings: .init(
                userAgent: userAgent, caFile: api.caFile, connectTimeout: api.connectTimeout,
                totalTimeout: api.timeout, maxResponseSize: api.maxResponseSize))
        let stateDir = FileReader.exists(stateDirectory) ? stateDirectory : nil
        return EmnifyClient(
            configuration: .init(
                baseURL: api.url, applicationToken: token.value, tokenCachePath: stateDir.map { $0 + "/auth-token" },
                authenticationPausePath: stateDir.map { $0 + "/auth-pause" }, retry: retry,
                initialUsage: initialUsage),
            transport: transport, clock: clock, logger: Logger(label: "emnify-edge.api"))
    }
}

extension MQTTSettings {
    /// The broker connection of `[mqtt]`; `password` from `mqtt.password_file`.
    public static func configured(_ mqtt: MQTTConfig, password: Secret?, will: MQTTMessage?) -> MQTTSettings {
        var tls: MQTTTLSSettings?
        if let caFile = mqtt.caFile {
            tls = MQTTTLSSettings(caFile: caFile, certFile: mqtt.certFile, keyFile: mqtt.keyFile)
        }
        let version: MQTTProtocolChoice
        switch mqtt.protocolVersion {
        case .auto: version = .auto
        case .v5: version = .v5
        case .v311: version = .v311
        }
        return MQTTSettings(
            host: mqtt.host, port: mqtt.port, clientID: mqtt.clientID ?? "emnify-edge-\(HostName.current)",
            username: mqtt.username, password: password?.value, tls: tls, keepalive: mqtt.keepalive,
            protocolVersion: version, will: will, cleanSession: false)
    }
}

extension ModemIdentityReader {
    /// The modem reader of `[modem]`; `source` and `board` override the configured ones.
    public static func configured(
        _ modem: ModemConfig, source override: ModemSource? = nil, board boardName: String? = nil
    ) throws -> ModemIdentityReader {
        var board: BoardProfile?
        if let name = boardName ?? modem.board {
            do {
                board = try BoardProfile.load(named: name)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        let settings = ModemReaderSettings(
            source: override ?? ModemSource(rawValue: modem.source.rawValue) ?? .auto, mmcliPath: modem.mmcli,
            atPort: modem.atPort, iccidCommand: modem.iccidCommand, board: board, staticICCID: modem.iccid,
            staticIMEI: modem.imei, staticIMSI: modem.imsi, timeout: modem.timeout)
        return ModemIdentityReader(settings: settings, logger: Logger(label: "emnify-edge.modem"))
    }
}

extension AgentSettings {
    /// The agent loop of `[agent]` and `[mqtt] topic_prefix`.
    public static func configured(_ configuration: EdgeConfiguration) -> AgentSettings {
        var settings = AgentSettings()
        let agent = configuration.agent
        settings.pollInterval = agent.pollInterval
        settings.backfill = agent.backfill
        settings.lookBack = agent.lookBack
        settings.bridged = agent.events == .bridge
        settings.quietLimit = agent.quietLimit
        settings.stateDirectory = agent.stateDir
        settings.topicPrefix = configuration.mqtt.topicPrefix
        return settings
    }
}
