import EdgeCommon
import Foundation
import Glibc

/// Runs a program with captured output and a timeout (after which it is killed with SIGKILL:
/// a child of an async test may have SIGTERM blocked).
public enum ChildProcess {
    public struct Result: Sendable {
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

/// A started child process. Output is collected in the background; `waitForLine` finds a line
/// on stdout while it runs (e.g. the emulator's `EMULATOR_READY` line).
// @unchecked: `Process` is not Sendable; after `run()` it is only read (pid) and signalled,
// and the collected output and exit status live behind mutexes.
public final class RunningProcess: @unchecked Sendable {
    private final class Collected: Sendable {
        let output = Locked(Data())
        let errorOutput = Locked(Data())
        let exited = Locked<Int32?>(nil)
        /// Pipes that reached end of file: everything the child wrote has been collected.
        let closedPipes = Locked(0)
    }

    private let process: Process
    private let collected = Collected()

    public var processIdentifier: Int32 { process.processIdentifier }

    /// A child never outlives the test that started it.
    deinit {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        standardInput: String? = nil
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if var environment {
            // A sanitized test run (.ci/sanitizers) configures the sanitizers through these; the
            // children are sanitized builds too and must report the same way.
            for name in ["ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"] where environment[name] == nil {
                environment[name] = ProcessInfo.processInfo.environment[name]
            }
            process.environment = environment
        }
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        self.process = process
        let collected = self.collected
        outPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                collected.closedPipes.withLock { $0 += 1 }
            } else {
                collected.output.withLock { $0.append(data) }
            }
        }
        errPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                collected.closedPipes.withLock { $0 += 1 }
            } else {
                collected.errorOutput.withLock { $0.append(data) }
            }
        }
        process.terminationHandler = { process in
            ChildReaper.release(process.processIdentifier)
            collected.exited.withLock { $0 = process.terminationStatus }
        }
        try process.run()
        ChildReaper.adopt(process.processIdentifier)
        if let standardInput { inPipe.fileHandleForWriting.write(Data(standardInput.utf8)) }
        try? inPipe.fileHandleForWriting.close()
    }

    public var standardOutput: String { String(decoding: collected.output.withLock { $0 }, as: UTF8.self) }
    public var standardError: String { String(decoding: collected.errorOutput.withLock { $0 }, as: UTF8.self) }
    public var exitCode: Int32? {
        collected.exited.withLock { $0 } ?? ChildReaper.exitStatus(of: process.processIdentifier)
    }

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
            "no line starting with '\(prefix)' (exit \(String(describing: exitCode))); stdout: \(standardOutput) stderr: \(standardError)")
    }

    /// Waits for exit (killing the process at the timeout) and returns what it printed.
    public func wait(timeout: Duration) async -> ChildProcess.Result {
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        // Read once and kept: the kernel's answer (`waitid` WNOWAIT) is gone once Foundation reaps
        // the child, and Foundation's own may come later, so a second read can find neither.
        var status = exitCode
        while status == nil {
            if ContinuousClock.now >= deadline {
                timedOut = true
                kill()
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
            status = exitCode
        }
        while status == nil {
            try? await Task.sleep(for: .milliseconds(5))
            status = exitCode
        }
        // Wait until both pipes reached end of file (bounded: a grandchild may hold them open),
        // so the result holds everything the child printed.
        let drained = ContinuousClock.now + .seconds(2)
        while collected.closedPipes.withLock({ $0 }) < 2 && ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return ChildProcess.Result(
            exitCode: collected.exited.withLock { $0 } ?? status ?? -1, standardOutput: standardOutput,
            standardError: standardError, timedOut: timedOut)
    }

    public func signal(_ number: Int32) {
        if exitCode == nil { Foundation.kill(process.processIdentifier, number) }
    }

    public func kill() { signal(SIGKILL) }
}
