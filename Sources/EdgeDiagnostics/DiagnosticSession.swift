import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EmnifyAPI
import Logging
import ModemIdentity

/// What `diagnose` is given by the executable: where the configuration is, the environment, and
/// how the executable maps a configuration onto the modem reader and the broker settings (the
/// same mapping `run` uses, so the checks see what the agent sees).
public struct DiagnosticInputs: Sendable {
    public var configPath: String
    public var environment: [String: String]
    public var version: String
    public var makeModemReader: @Sendable (EdgeConfiguration) throws -> ModemIdentityReader
    public var makeMQTTSettings: @Sendable (EdgeConfiguration) throws -> MQTTSettings
    public var logger: Logger
    /// The systemd unit of the agent.
    public var serviceName: String

    public init(
        configPath: String, environment: [String: String], version: String,
        makeModemReader: @escaping @Sendable (EdgeConfiguration) throws -> ModemIdentityReader,
        makeMQTTSettings: @escaping @Sendable (EdgeConfiguration) throws -> MQTTSettings,
        logger: Logger = Logger(label: "emnify-edge.diagnose"), serviceName: String = "emnify-edge.service"
    ) {
        self.configPath = configPath
        self.environment = environment
        self.version = version
        self.makeModemReader = makeModemReader
        self.makeMQTTSettings = makeMQTTSettings
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
    /// Retained messages under the agent's topics, by last topic level (`status`, `state`, `health`, `identity`).
    var retained: [String: String] = [:]
    var brokerReachable = false
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

    /// The scrubber for everything this session prints or bundles.
    public var redactor: Redactor { Redactor(secrets: secrets) }

    /// The ICCID the agent's topics are named after: 19 digits, from the modem or the agent's state.
    var topicICCID: String? {
        if let iccid = modemReport?.iccid { return iccid.withoutCheckDigit ?? iccid.normalized }
        return AgentStateStore(directory: configuration.agent.stateDir).load().0.iccid
    }

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
        let api = configuration.api
        let transport = try CurlTransport(
            settings: .init(
                userAgent: "emnify-edge/\(inputs.version) diagnose", caFile: api.caFile,
                connectTimeout: api.connectTimeout, totalTimeout: api.timeout, maxResponseSize: api.maxResponseSize))
        // The agent's token cache and login pause: a diagnosis must not spend a login the agent
        // is waiting out (three failures lock the account).
        let stateDir = FileReader.exists(configuration.agent.stateDir) ? configuration.agent.stateDir : nil
        let made = EmnifyClient(
            configuration: .init(
                baseURL: api.url, applicationToken: token.value, tokenCachePath: stateDir.map { $0 + "/auth-token" },
                authenticationPausePath: stateDir.map { $0 + "/auth-pause" }, retry: RetryPolicy(maxAttempts: 1)),
            transport: transport, clock: clock, logger: Logger(label: "emnify-edge.api"))
        client = made
        return made
    }
}
