import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EmnifyAPI
import FoundationEssentials
import Logging
import ModemIdentity

/// A loaded configuration and the parts made from it: what every command and role starts from.
public struct ConfiguredParts: Sendable {
    public let path: String
    public let configuration: EdgeConfiguration
    public let environment: [String: String]
    /// The secrets validated with the configuration (the daemon's); nil: read when needed.
    private let validated: ValidatedSecrets?

    private struct ValidatedSecrets: Sendable {
        var token: Secret
        var mqttPassword: Secret?
    }

    public init(path: String, configuration: EdgeConfiguration, environment: [String: String]) {
        self.path = path
        self.configuration = configuration
        self.environment = environment
        validated = nil
    }

    /// Loaded for an interactive command, which reads the secrets when it needs them.
    public static func load(path: String, environment: [String: String]) throws -> ConfiguredParts {
        do {
            let configuration = try ConfigurationLoader.load(contentsOf: path)
            return ConfiguredParts(path: path, configuration: configuration, environment: environment)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// The daemon's: passes `ConfigurationCheck`, the validation of `config check` (token and password
    /// file included), or is refused with every problem, one per line.
    public static func validated(path: String, environment: [String: String]) throws -> ConfiguredParts {
        let check = ConfigurationCheck.run(path: path, environment: environment)
        guard check.isValid, let configuration = check.configuration, case .success(let token) = check.token else {
            let problems = check.lines.filter { !$0.hasPrefix("application token: from") }
            throw CommandFailure(problems.joined(separator: "\n"))
        }
        return ConfiguredParts(
            path: path, configuration: configuration, environment: environment,
            validated: ValidatedSecrets(token: token, mqttPassword: try? check.mqttPassword?.get()))
    }

    private init(
        path: String, configuration: EdgeConfiguration, environment: [String: String], validated: ValidatedSecrets
    ) {
        self.path = path
        self.configuration = configuration
        self.environment = environment
        self.validated = validated
    }

    /// Made on use: a logger made before the executable bootstraps logging would keep the default handler.
    public var logger: Logger { Logger(label: "emnify-edge") }

    public func applicationToken() throws -> Secret {
        let secret: Secret
        if let validated {
            secret = validated.token
        } else {
            do {
                secret = try ApplicationTokenSource.resolve(api: configuration.api, environment: environment)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        if let finding = secret.permissionFinding { logger.warning("\(finding)") }
        return secret
    }

    /// The broker password from `mqtt.password_file` (nil without one).
    public func mqttPassword() throws -> Secret? {
        let secret: Secret?
        if let validated {
            secret = validated.mqttPassword
        } else {
            do {
                secret = try SecretFile.mqttPassword(configuration.mqtt)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        if let finding = secret?.permissionFinding { logger.warning("\(finding)") }
        return secret
    }

    /// The API client, by default with the retry policy of an interactive command: a few quick retries.
    public func apiClient(retry: RetryPolicy = RetryPolicy(), initialUsage: UsageCounters? = nil) throws -> EmnifyClient
    {
        let token = try applicationToken()
        do {
            return try EmnifyClient.configured(
                configuration.api, stateDirectory: configuration.agent.stateDir, token: token,
                userAgent: "emnify-edge/\(EdgeVersion.current)", retry: retry, initialUsage: initialUsage)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    public func mqttSettings(will: MQTTMessage?) throws -> MQTTSettings {
        MQTTSettings.configured(configuration.mqtt, password: try mqttPassword(), will: will)
    }

    public func modemReader(source: ModemSource? = nil, board: String? = nil) throws -> ModemIdentityReader {
        try ModemIdentityReader.configured(configuration.modem, source: source, board: board)
    }

    public var agentSettings: AgentSettings { AgentSettings.configured(configuration) }

    /// The ICCID of the SIM this gateway runs on, from the modem (or `[modem] iccid`).
    public func readICCID() async throws -> ICCID {
        let reader = try modemReader()
        let report: ModemIdentityReport
        do throws(ModemIdentityError) {
            report = try await reader.read()
        } catch {
            throw CommandFailure("cannot read the SIM's identity: \(error.mostRelevant)")
        }
        guard let iccid = report.iccid else {
            throw CommandFailure(
                "the modem reported no ICCID (source \(report.source.rawValue)); run 'emnify-edge identity' for details"
            )
        }
        return iccid
    }
}
