import CEdgeSpawn
import EdgeCommon

#if canImport(Glibc)
    import Glibc
#endif

/// Where a child's standard input, output or error goes.
public enum StandardStream: Sendable {
    /// /dev/null.
    case null
    /// This process's own descriptor.
    case inherit
    /// A new pipe; this process holds the other end (`LaunchedProcess.standardOutput` …).
    case pipe
    /// A file: read for standard input; created or truncated for output, or appended to.
    case file(String, append: Bool = false)
}

public enum LaunchError: Error, CustomStringConvertible {
    case cannotStart(executable: String, errno: Int32)
    case cannotOpen(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .cannotStart(let executable, let number):
            "cannot start \(executable): \(String(cString: strerror(number)))"
        case .cannotOpen(let path, let number):
            "cannot open \(path): \(String(cString: strerror(number)))"
        }
    }
}

/// How a child ended.
public enum Termination: Sendable, Equatable {
    case exited(Int32)
    case signalled(Int32)

    /// The shell's convention: the exit code, or 128 + the signal's number.
    public var exitCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }
}

/// A child process started by the one launcher every part of emnify-edge uses (demo,
/// diagnose, modem tools, tests): signals unblocked and at their defaults, no inherited
/// descriptors, and by default killed by the kernel when this process dies (CEdgeSpawn says
/// why each matters). It is reaped here, never by anyone else: `termination` and
/// `waitUntilExit` call waitpid for this pid only.
public final class LaunchedProcess: Sendable {
    public let pid: pid_t
    /// This process's ends of the pipes asked for with `.pipe`, closed when this object goes.
    public let standardOutput: Int32?
    public let standardError: Int32?
    private let ended = Locked<Termination?>(nil)
    private let input: Locked<Int32?>

    public static func launch(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: String? = nil, standardInput: StandardStream = .null, standardOutput: StandardStream = .inherit,
        standardError: StandardStream = .inherit, diesWithParent: Bool = true, newProcessGroup: Bool = false
    ) throws(LaunchError) -> LaunchedProcess {
        var opened: [Int32] = []  // descriptors for the child only, closed here once it has them
        var ours: [Int32?] = [nil, nil, nil]
        defer { opened.forEach { _ = close($0) } }
        func childEnd(_ stream: StandardStream, _ index: Int) throws(LaunchError) -> Int32 {
            switch stream {
            case .null: return EDGE_SPAWN_NULL
            case .inherit: return EDGE_SPAWN_INHERIT
            case .pipe:
                var fds: [Int32] = [-1, -1]
                let error = edge_pipe_cloexec(&fds)
                guard error == 0 else { throw .cannotStart(executable: executable, errno: error) }
                let (theirs, mine) = index == 0 ? (fds[0], fds[1]) : (fds[1], fds[0])
                opened.append(theirs)
                ours[index] = mine
                return theirs
            case .file(let path, let append):
                let flags = index == 0 ? O_RDONLY : O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
                let fd = open(path, flags | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
                opened.append(fd)
                return fd
            }
        }
        do {
            let input = try childEnd(standardInput, 0)
            let output = try childEnd(standardOutput, 1)
            let error = try childEnd(standardError, 2)
            let pid = try spawn(
                executable, arguments, environment, directory, (input, output, error),
                diesWithParent: diesWithParent, newProcessGroup: newProcessGroup)
            return LaunchedProcess(pid: pid, standardInput: ours[0], standardOutput: ours[1], standardError: ours[2])
        } catch {
            ours.compactMap { $0 }.forEach { _ = close($0) }
            throw error
        }
    }

    private init(pid: pid_t, standardInput: Int32?, standardOutput: Int32?, standardError: Int32?) {
        self.pid = pid
        input = Locked(standardInput)
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    deinit {
        closeStandardInput()
        [standardOutput, standardError].compactMap { $0 }.forEach { _ = close($0) }
    }

    /// How it ended, or nil while it runs (waitpid WNOHANG; the answer is kept).
    public var termination: Termination? {
        ended.withLock { ended in
            if ended == nil { ended = Self.reap(pid, options: WNOHANG) }
            return ended
        }
    }

    public var isRunning: Bool { termination == nil }

    /// Blocks until the child ends. Off the cooperative pool: use `wait(timeout:)` there.
    @discardableResult
    public func waitUntilExit() -> Termination {
        while true {
            if let termination { return termination }
            // Blocking waitpid outside the lock, so `signal` stays possible meanwhile; a second
            // caller blocking on the same pid is answered ECHILD once the first has reaped it.
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, 0)
            if reaped == pid {
                let result = Self.decode(status)
                ended.withLock { if $0 == nil { $0 = result } }
            } else if reaped < 0, errno != EINTR {
                usleep(1_000)
            }
        }
    }

    /// Waits for the end without blocking a thread; nil when `timeout` passed first.
    public func wait(timeout: Duration) async -> Termination? {
        let deadline = Deadline(after: timeout)
        var pause = 1
        while true {
            if let termination { return termination }
            if deadline.hasPassed { return nil }
            try? await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 20)
        }
    }

    /// Sends `number` unless the child has been reaped (its pid could belong to another process by then).
    public func signal(_ number: Int32) {
        ended.withLock { ended in
            if ended == nil { ended = Self.reap(pid, options: WNOHANG) }
            if ended == nil { _ = kill(pid, number) }
        }
    }

    /// SIGTERM, then SIGKILL when it has not ended after `grace`; returns how it ended.
    @discardableResult
    public func stop(grace: Duration = .seconds(3)) async -> Termination {
        signal(SIGTERM)
        if let termination = await wait(timeout: grace) { return termination }
        signal(SIGKILL)
        while true {
            if let termination = await wait(timeout: .seconds(60)) { return termination }
        }
    }

    /// Writes all of `bytes` to the standard input pipe (blocking); false when the child closed it.
    @discardableResult
    public func writeToStandardInput(_ bytes: [UInt8]) -> Bool {
        input.withLock { fd in
            guard let fd else { return false }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    /// Closes our end of the standard input pipe, so that the child reads end of file.
    public func closeStandardInput() {
        input.withLock { fd in
            if let open = fd { _ = close(open) }
            fd = nil
        }
    }

    private static func reap(_ pid: pid_t, options: Int32) -> Termination? {
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &status, options) } while reaped < 0 && errno == EINTR
        return reaped == pid ? decode(status) : nil
    }

    private static func decode(_ status: Int32) -> Termination {
        (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], _ environment: [String: String]?, _ directory: String?,
        _ fds: (Int32, Int32, Int32), diesWithParent: Bool, newProcessGroup: Bool
    ) throws(LaunchError) -> pid_t {
        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { $0.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } }
        let directoryCopy: UnsafeMutablePointer<CChar>? = directory.flatMap { strdup($0) }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
            free(directoryCopy)
        }
        var pid: pid_t = 0
        var error: Int32 = 0
        // ETXTBSY: the executable was just written and another process forked with its write
        // descriptor still open (happens with freshly installed scripts); it clears within moments.
        for attempt in 0..<100 {
            error = (argv + [nil]).withUnsafeBufferPointer { args in
                let callEnvironment = envp.map { $0 + [nil] }
                return withOptionalBuffer(callEnvironment) { env in
                    executable.withCString { path in
                        var request = edge_spawn_request(
                            path: path, argv: args.baseAddress, envp: env, directory: UnsafePointer(directoryCopy),
                            stdin_fd: fds.0, stdout_fd: fds.1, stderr_fd: fds.2,
                            die_with_parent: diesWithParent ? 1 : 0, new_process_group: newProcessGroup ? 1 : 0)
                        return edge_spawn(&request, &pid)
                    }
                }
            }
            guard error == ETXTBSY, attempt < 99 else { break }
            usleep(10_000)
        }
        guard error == 0 else { throw .cannotStart(executable: executable, errno: error) }
        return pid
    }
}

private func withOptionalBuffer<Result>(
    _ array: [UnsafeMutablePointer<CChar>?]?, _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> Result
) -> Result {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
