#if canImport(Glibc)
import Glibc
#endif

/// Output of a finished child process.
public struct ProcessOutput: Sendable {
    /// Exit status, or 128 + signal number when killed by a signal.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    var stderrText: String { String(decoding: stderr, as: UTF8.self).trimmingBlanks() }
}

public enum ProcessRunError: Error {
    case spawnFailed(errno: Int32)
    case timedOut
}

/// Runs an executable with posix_spawn, `LC_ALL=C`, stdin from /dev/null, stdout/stderr through pipes,
/// and kills it (SIGKILL) when it outlives the timeout. Blocking: call it off the cooperative pool.
public enum ProcessRunner {
    public static func run(
        executable: String, arguments: [String], timeout: Duration
    ) throws(ProcessRunError) -> ProcessOutput {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw .spawnFailed(errno: errno) }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw .spawnFailed(errno: errno)
        }
        // Keep the pipes out of other children (pipe2 with O_CLOEXEC is not exported to Swift).
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        // A child started from an async context may inherit blocked signals: reset mask and handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment().map { strdup($0) }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        var spawned: Int32 = 0
        // ETXTBSY: the executable was just written and another process forked with its write
        // descriptor still open (happens with freshly installed scripts); it clears within moments.
        for attempt in 0..<100 {
            spawned = (argv + [nil]).withUnsafeBufferPointer { args in
                (envp + [nil]).withUnsafeBufferPointer { env in
                    posix_spawn(
                        &pid, executable, &actions, &attributes,
                        UnsafeMutablePointer(mutating: args.baseAddress!), UnsafeMutablePointer(mutating: env.baseAddress!))
                }
            }
            guard spawned == ETXTBSY, attempt < 99 else { break }
            usleep(10_000)
        }
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw .spawnFailed(errno: spawned)
        }
        let deadline = Deadline(after: timeout)
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var open: [(fd: Int32, isOut: Bool)] = [(outPipe[0], true), (errPipe[0], false)]
        var timedOut = false
        while !open.isEmpty {
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 { timedOut = true; break }
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1000)))
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            var closed: [Int32] = []
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if open[index].isOut { stdout += buffer[0..<count] } else { stderr += buffer[0..<count] }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    closed.append(entry.fd)
                }
            }
            for fd in closed {
                close(fd)
                open.removeAll { $0.fd == fd }
            }
        }
        for entry in open { close(entry.fd) }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        if timedOut { throw .timedOut }
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ProcessOutput(status: exitCode, stdout: stdout, stderr: stderr)
    }

    /// The current environment with `LC_ALL=C` (mmcli prints decimal commas under e.g. `cs_CZ`).
    static func environment() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if !text.hasPrefix("LC_ALL=") && !text.hasPrefix("LANG=") { result.append(text) }
            pointer += 1
        }
        return result + ["LC_ALL=C", "LANG=C"]
    }

    /// `name` itself when it contains a slash, else the first executable `name` on PATH.
    public static func find(_ name: String, path: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let search = path ?? (getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin")
        for directory in search.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// A point on the monotonic clock.
struct Deadline {
    let nanoseconds: Int64

    init(after duration: Duration) {
        let (seconds, attoseconds) = duration.components
        nanoseconds = Deadline.now() + seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var remainingMilliseconds: Int { Int(max(0, (nanoseconds - Deadline.now()) / 1_000_000)) }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
