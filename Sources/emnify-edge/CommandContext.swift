import ArgumentParser
#if canImport(Glibc)
    import Glibc
#endif
import EdgeCommon
import EdgeConfig
import EdgeRuntime
import EmnifyAPI
import FoundationEssentials
import Logging

/// What an interactive subcommand needs, built from the global options: the configuration and
/// its parts, and a logger. Errors are printed as the user should read them and turn into exit
/// code 1.
struct CommandContext {
    let parts: ConfiguredParts
    let logger: Logger

    /// Logs warnings and worse unless `--verbose` (the daemon logs at `[log] level`: see `RunCommand`).
    init(options: GlobalOptions) throws {
        parts = try ConfiguredParts.load(path: options.config, environment: Self.environment)
        LoggingBootstrap.once(level: options.verbose ? .debug : .warning)
        logger = Logger(label: "emnify-edge")
    }

    var configuration: EdgeConfiguration { parts.configuration }

    static var environment: [String: String] { ProcessInfo.processInfo.environment }
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
