import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import FoundationEssentials
import Logging

/// What every subcommand needs, built from the global options: the configuration, a logger
/// and, on demand, the API client. Errors are printed as the user should read them and turn
/// into exit code 1.
struct CommandContext {
    let configPath: String
    let configuration: EdgeConfiguration
    let logger: Logger
    /// The secrets the daemon validated with its configuration (nil for the other commands, which
    /// read them when they need them).
    private var validated: (token: Secret, mqttPassword: Secret?)? = nil

    /// Interactive commands log warnings and worse unless `--verbose`; the daemon (`run`) logs
    /// at `[log] level`. The daemon's configuration passes `ConfigurationCheck`, the same validation
    /// as `config check` (token and password file included), or is refused with every problem.
    init(options: GlobalOptions, daemon: Bool = false) throws {
        configPath = options.config
        if daemon {
            let check = ConfigurationCheck.run(path: options.config, environment: Self.environment)
            guard check.isValid, let configuration = check.configuration, case .success(let token) = check.token else {
                let problems = check.lines.filter { !$0.hasPrefix("application token: from") }
                throw CommandFailure(problems.joined(separator: "\n"))
            }
            self.configuration = configuration
            validated = (token, try? check.mqttPassword?.get())
        } else {
            do {
                configuration = try ConfigurationLoader.load(contentsOf: options.config)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        let level: Logger.Level = options.verbose ? .debug : daemon ? Logger.Level(configuration.log.level) : .warning
        LoggingBootstrap.once(level: level)
        logger = Logger(label: "emnify-edge")
    }

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The broker password from `mqtt.password_file` (nil without one); validated once for the daemon.
    func mqttPassword() throws -> Secret? {
        if let validated { return validated.mqttPassword }
        do {
            return try SecretFile.mqttPassword(configuration.mqtt)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    func applicationToken() throws -> Secret {
        if let validated {
            if let finding = validated.token.permissionFinding { logger.warning("\(finding)") }
            return validated.token
        }
        do {
            let secret = try ApplicationTokenSource.resolve(api: configuration.api, environment: Self.environment)
            if let finding = secret.permissionFinding {
                logger.warning("\(finding)")
            }
            return secret
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// The API client, with the retry policy of an interactive command: a few quick retries.
    func makeClient(retry: RetryPolicy = RetryPolicy()) throws -> EmnifyClient {
        let token = try applicationToken()
        let api = configuration.api
        let transport: CurlTransport
        do {
            transport = try CurlTransport(
                settings: .init(
                    userAgent: "emnify-edge/\(EdgeVersion.current)", caFile: api.caFile, connectTimeout: api.connectTimeout,
                    totalTimeout: api.timeout, maxResponseSize: api.maxResponseSize))
        } catch {
            throw CommandFailure("\(error)")
        }
        let stateDir = FileReader.exists(configuration.agent.stateDir) ? configuration.agent.stateDir : nil
        return EmnifyClient(
            configuration: .init(
                baseURL: api.url, applicationToken: token.value, tokenCachePath: stateDir.map { $0 + "/auth-token" },
                authenticationPausePath: stateDir.map { $0 + "/auth-pause" }, retry: retry),
            transport: transport, logger: Logger(label: "emnify-edge.api"))
    }
}

/// A command failed for a reason the user can act on: printed without a stack of types.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension Logger.Level {
    init(_ level: LogConfig.Level) {
        self = Logger.Level(rawValue: level.rawValue) ?? .info
    }
}

enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    /// Logs go to stderr (the journal under systemd). Called once, from the main task.
    static func once(level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Runs a command body, printing a `CommandFailure` or `EmnifyError` as one clear line on
/// stderr with exit code 1.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CommandFailure {
        printError(error.description)
        throw ExitCode(1)
    } catch let error as EmnifyError {
        printError(error.description)
        throw ExitCode(1)
    }
}

func printError(_ message: String) {
    var stderr = StandardError()
    print("emnify-edge: \(message)", to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        // write(2) on fd 2: no shared FILE* (which strict concurrency rightly flags).
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
