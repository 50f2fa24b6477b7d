import EdgeCommon

#if canImport(Glibc)
    import Glibc
#endif

/// Output of a finished child process.
public struct ProcessOutput: Sendable {
    /// Exit status, or 128 + signal number when killed by a signal.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum ProcessRunError: Error {
    case spawnFailed(errno: Int32)
    case timedOut
}

/// Runs a program to completion with `LC_ALL=C`, stdin from /dev/null and stdout/stderr captured,
/// and kills it (SIGKILL) when it outlives the timeout. Blocking: call it off the cooperative pool
/// (`BlockingExecutor.shared.run { … }`).
public enum ProcessRunner {
    public static func run(
        executable: String, arguments: [String], directory: String? = nil, timeout: Duration
    ) throws(ProcessRunError) -> ProcessOutput {
        let child: LaunchedProcess
        do {
            child = try LaunchedProcess.launch(
                executable, arguments, environment: environment(), directory: directory, standardOutput: .pipe,
                standardError: .pipe)
        } catch {
            switch error {
            case .cannotStart(_, let number), .cannotOpen(_, let number): throw .spawnFailed(errno: number)
            }
        }
        let deadline = Deadline(after: timeout)
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var open: [(fd: Int32, isOut: Bool)] = [(child.standardOutput!, true), (child.standardError!, false)]
        var timedOut = false
        // Both pipes until end of file: a child that fills one while we block on the other would hang.
        while !open.isEmpty {
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 {
                timedOut = true
                break
            }
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
            open.removeAll { closed.contains($0.fd) }
        }
        if timedOut { child.signal(SIGKILL) }
        let termination = child.waitUntilExit()
        if timedOut { throw .timedOut }
        return ProcessOutput(status: termination.exitCode, stdout: stdout, stderr: stderr)
    }

    /// The current environment with `LC_ALL=C` (mmcli prints decimal commas under e.g. `cs_CZ`).
    static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "="), !text.hasPrefix("LC_ALL=") && !text.hasPrefix("LANG=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        result["LC_ALL"] = "C"
        result["LANG"] = "C"
        return result
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
