import EdgeCommon
import EdgeProcess
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program with captured output and a timeout (after which it is killed with SIGKILL).
public enum ChildProcess {
    public struct Result: Sendable {
        /// Exit code, or 128 + the signal's number.
        public let exitCode: Int32
        public let standardOutput: String
        public let standardError: String
        public let timedOut: Bool
    }

    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        standardInput: String? = nil, timeout: Duration = .seconds(60)
    ) async throws -> Result {
        let running = try RunningProcess(executable, arguments, environment: environment, standardInput: standardInput)
        return await running.wait(timeout: timeout)
    }
}

/// A started child process (EdgeProcess's launcher: it dies with the test process, however that
/// ends). Output is collected by blocking reads on threads of their own; `waitForLine` finds a
/// line on stdout while it runs (e.g. the emulator's `EMULATOR_READY` line).
public final class RunningProcess: Sendable {
    private final class Collected: Sendable {
        let output = Locked(Data())
        let errorOutput = Locked(Data())
        /// Pipes that reached end of file: everything the child wrote has been collected.
        let closedPipes = Locked(0)
    }

    private let process: LaunchedProcess
    private let collected = Collected()

    public var processIdentifier: Int32 { process.pid }

    /// A child never outlives the test that started it.
    deinit { process.signal(SIGKILL) }

    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        standardInput: String? = nil
    ) throws {
        var environment = environment
        if environment != nil {
            // A sanitized test run (.ci/sanitizers) configures the sanitizers through these; the
            // children are sanitized builds too and must report the same way.
            for name in ["ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"]
            where environment?[name] == nil {
                environment?[name] = ProcessInfo.processInfo.environment[name]
            }
        }
        process = try LaunchedProcess.launch(
            executable, arguments, environment: environment, standardInput: .pipe, standardOutput: .pipe,
            standardError: .pipe)
        let collected = self.collected
        for (fd, buffer) in [
            (process.standardOutput!, collected.output), (process.standardError!, collected.errorOutput),
        ] {
            PipeReader.start(
                fd, owner: process, onData: { bytes in buffer.withLock { $0.append(contentsOf: bytes) } },
                onEnd: { collected.closedPipes.withLock { $0 += 1 } })
        }
        if let standardInput { process.writeToStandardInput(Array(standardInput.utf8)) }
        process.closeStandardInput()
    }

    public var standardOutput: String { String(decoding: collected.output.withLock { $0 }, as: UTF8.self) }
    public var standardError: String { String(decoding: collected.errorOutput.withLock { $0 }, as: UTF8.self) }
    /// Exit code (128 + signal when killed by one), or nil while it runs.
    public var exitCode: Int32? { process.termination?.exitCode }

    /// The first stdout line starting with `prefix`, waiting up to `timeout`.
    public func waitForLine(prefix: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = standardOutput.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line)
            }
            if exitCode != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError(
            "no line starting with '\(prefix)' (exit \(String(describing: exitCode))); stdout: \(standardOutput) stderr: \(standardError)"
        )
    }

    /// Waits for exit (killing the process at the timeout) and returns what it printed.
    public func wait(timeout: Duration) async -> ChildProcess.Result {
        var timedOut = false
        var termination = await process.wait(timeout: timeout)
        if termination == nil {
            timedOut = true
            process.signal(SIGKILL)
            termination = await process.wait(timeout: .seconds(600))
        }
        // Wait until both pipes reached end of file (bounded: a grandchild may hold them open),
        // so the result holds everything the child printed.
        let drained = ContinuousClock.now + .seconds(2)
        while collected.closedPipes.withLock({ $0 }) < 2 && ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return ChildProcess.Result(
            exitCode: termination?.exitCode ?? -1, standardOutput: standardOutput, standardError: standardError,
            timedOut: timedOut)
    }

    public func signal(_ number: Int32) { process.signal(number) }

    public func kill() { signal(SIGKILL) }
}
