import EdgeCommon
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Children that must not outlive the test process. A broker that a suite still holds when the
/// test run ends is never deinitialised (the process exits first), so it would be left running:
/// whatever is still adopted at exit gets SIGKILL.
enum ChildReaper {
    private static let pids = Locked<Set<Int32>>([])
    private static let installed: Void = {
        atexit { ChildReaper.killAll() }
    }()

    static func adopt(_ pid: Int32) {
        _ = installed
        pids.withLock { _ = $0.insert(pid) }
    }

    static func release(_ pid: Int32) {
        pids.withLock { _ = $0.remove(pid) }
    }

    /// Only pids that are still our children: a child that exited before it was adopted may
    /// have left its pid to an unrelated process.
    private static func killAll() {
        for pid in pids.withLock({ $0 }) where parent(of: pid) == getpid() { kill(pid, SIGKILL) }
    }

    private static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // "pid (comm) state ppid ...": the command may hold spaces and parentheses.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// The child's exit status straight from the kernel, without reaping it (Foundation does
    /// that), or nil while it runs. Foundation learns of an exit through a socket that a child
    /// spawned at the same moment can inherit, so its notice can come late, or only when that
    /// other child (a broker) exits: a test must not wait for it alone.
    static func exitStatus(of pid: Int32) -> Int32? {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
            info._sifields._sigchld.si_pid == pid
        else { return nil }
        // Exit code, or the signal's number, as Foundation's terminationStatus gives it.
        return info._sifields._sigchld.si_status
    }
}
