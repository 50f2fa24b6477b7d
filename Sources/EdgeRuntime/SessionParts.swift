import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI

/// What one session of the agent runs on, made from one configuration: from `ConfiguredParts` in
/// production, from in-memory parts in the session's unit tests.
public struct SessionParts: Sendable {
    public var settings: AgentSettings
    public var api: any AgentAPI
    public var identity: any IdentityProvider
    /// The broker connection, made once the identity is known: its Last Will names the SIM's topic.
    public var makeBroker: @Sendable (_ will: MQTTMessage) throws -> any SessionBroker
    /// `host:port`, for the status line.
    public var brokerName: String

    public init(
        settings: AgentSettings, api: any AgentAPI, identity: any IdentityProvider,
        makeBroker: @escaping @Sendable (_ will: MQTTMessage) throws -> any SessionBroker, brokerName: String
    ) {
        self.settings = settings
        self.api = api
        self.identity = identity
        self.makeBroker = makeBroker
        self.brokerName = brokerName
    }

    /// The real parts of a configuration: libcurl, libmosquitto, the modem.
    public static func configured(_ parts: ConfiguredParts) throws -> SessionParts {
        let settings = parts.agentSettings
        // A few quick retries, then the poll loop's own backoff takes over.
        let client = try parts.apiClient(
            retry: RetryPolicy(maxAttempts: 3, maxRetryAfter: .seconds(10)),
            initialUsage: AgentStateStore(directory: settings.stateDirectory).load().0.usage)
        let identity = ModemIdentitySource(reader: try parts.modemReader())
        let mqtt = parts.configuration.mqtt
        return SessionParts(
            settings: settings, api: client, identity: identity,
            makeBroker: { will in try MQTTSessionBroker(settings: try parts.mqttSettings(will: will)) },
            brokerName: "\(mqtt.host):\(mqtt.port)")
    }
}
