import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EdgeRuntime
import EmnifyAPI
import Logging
import ModemIdentity

/// What `diagnose` is given by the executable: where the configuration is, the environment and
/// the version. The parts are made from the configuration as `run` makes them (`EdgeRuntime`), so
/// the checks see what the agent sees.
public struct DiagnosticInputs: Sendable {
    public var configPath: String
    public var environment: [String: String]
    public var version: String
    public var logger: Logger
    /// The systemd unit of the agent.
    public var serviceName: String

    public init(
        configPath: String, environment: [String: String], version: String,
        logger: Logger = Logger(label: "emnify-edge.diagnose"), serviceName: String = "emnify-edge.service"
    ) {
        self.configPath = configPath
        self.environment = environment
        self.version = version
        self.logger = logger
        self.serviceName = serviceName
    }
}

/// The facts the checks gather, in chain order. Used by one task at a time (the checks run in
/// sequence), so it needs no lock.
public final class DiagnosticSession {
    public let inputs: DiagnosticInputs
    public let clock: any WallClock

    /// The loaded configuration, or the defaults when it could not be loaded.
    public private(set) var configuration = EdgeConfiguration()
    public private(set) var configurationProblem: String?
    public private(set) var token: Secret?
    public private(set) var tokenProblem: String?

    var probeResult: APIProbe.Result?
    var modemReport: ModemIdentityReport?
    var modemProblem: String?
    var client: EmnifyClient?
    var accountProblem: String?
    var sim: SIM?
    var emnifyConnectivity: ConnectivityStatus?
    /// The SIM's events of the API's last 24 h (both feeds, oldest first), as the events check read them.
    var recentEvents: (events: [EmnifyEvent], fromSeconds: Int64)?
    /// Retained messages under the agent's topics, by last topic level (`status`, `state`, `health`, `identity`).
    var retained: [String: String] = [:]
    var brokerReachable = false
    /// Bridge mode: what the local broker holds about the bridge and the relays, read once.
    var bridgeTopics: Result<BridgeTopics, BridgeTopics.Problem>?
    var agentRunning = false

    /// Every secret value met, so that the outputs can be scrubbed of them as a last line of defence.
    public private(set) var secrets: [String] = []

    public init(inputs: DiagnosticInputs, clock: any WallClock = SystemWallClock()) {
        self.inputs = inputs
        self.clock = clock
        do {
            configuration = try ConfigurationLoader.load(contentsOf: inputs.configPath)
        } catch {
            configurationProblem = "\(error)"
        }
        do {
            let secret = try ApplicationTokenSource.resolve(api: configuration.api, environment: inputs.environment)
            token = secret
            secrets.append(secret.value)
        } catch {
            tokenProblem = "\(error)"
        }
        if let password = try? SecretFile.mqttPassword(configuration.mqtt) {
            secrets.append(password.value)
        }
        if let proxy = ProxyEnvironment(url: configuration.api.url, environment: inputs.environment),
            let password = proxy.password
        {
            secrets.append(password)
        }
        // The cached JWT, should any text ever quote it.
        if let cached = try? FileReader.readText(configuration.agent.stateDir + "/auth-token", limit: 64 * 1024) {
            secrets += Redactor.jwts(in: cached)
        }
    }

    /// The parts as `run` makes them from this configuration.
    var parts: ConfiguredParts {
        ConfiguredParts(path: inputs.configPath, configuration: configuration, environment: inputs.environment)
    }

    /// The scrubber for everything this session prints or bundles.
    public var redactor: Redactor { Redactor(secrets: secrets) }

    /// The ICCID the agent's topics are named after: 19 digits, from the modem or the agent's state.
    var topicICCID: String? {
        if let iccid = modemReport?.iccid { return iccid.topicForm }
        // The state holds the ICCID as read (it may carry the check digit): the topics name it without.
        let saved = AgentStateStore(directory: configuration.agent.stateDir).load().0.iccid
        return saved.flatMap { try? ICCID(parsing: $0) }?.topicForm ?? saved
    }

    /// Where the agent takes its events from (`[agent] events`).
    public var eventSource: AgentConfig.EventSource { configuration.agent.events }

    var topics: TopicLayout? {
        topicICCID.map { TopicLayout(prefix: configuration.mqtt.topicPrefix, iccid: $0) }
    }

    /// One unauthenticated request to the API, made once and shared by the clock and network checks.
    func probe() async -> APIProbe.Result {
        if let probeResult { return probeResult }
        let result = await APIProbe.run(api: configuration.api, userAgent: "emnify-edge/\(inputs.version) diagnose")
        probeResult = result
        return result
    }

    /// The API's clock minus the local one (ms), from the probe's `Date` header; nil without one.
    func apiClockOffsetMillis() async -> Int64? {
        guard case .success(let response) = await probe().outcome, let header = response.header("date"),
            let seconds = HTTPDate.parse(header)
        else { return nil }
        // The header has one-second resolution: the middle of that second.
        return seconds * 1000 + 500 - probeResult!.receivedAtMillis
    }

    /// The API client with the retry policy of a diagnosis: one try, so a failure shows at once.
    func makeClient() throws(TransportError) -> EmnifyClient? {
        if let client { return client }
        guard let token else { return nil }
        // The agent's token cache and login pause: a diagnosis must not spend a login the agent
        // is waiting out (three failures lock the account).
        let made = try EmnifyClient.configured(
            configuration.api, stateDirectory: configuration.agent.stateDir, token: token,
            userAgent: "emnify-edge/\(inputs.version) diagnose", retry: RetryPolicy(maxAttempts: 1), clock: clock)
        client = made
        return made
    }
}
