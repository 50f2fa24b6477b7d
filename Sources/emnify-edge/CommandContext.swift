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

    /// Interactive commands log warnings and worse unless `--verbose`; the daemon (`run`) logs
    /// at `[log] level`.
    init(options: GlobalOptions, daemon: Bool = false) throws {
        configPath = options.config
        do {
            configuration = try ConfigurationLoader.load(contentsOf: options.config)
        } catch {
            throw CommandFailure("\(error)")
        }
        let level: Logger.Level = options.verbose ? .debug : daemon ? Logger.Level(configuration.log.level) : .warning
        LoggingBootstrap.once(level: level)
        logger = Logger(label: "emnify-edge")
    }

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    func applicationToken() throws -> Secret {
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
