import EdgeAgent
import EdgeCommon

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the state file was written by the daemon that runs now: it saves after every poll
/// (also a failed one), so a file older than a few poll intervals, or older than the daemon,
/// means the daemon cannot save (a read-only or full state directory) and the file tells old news.
enum StateFreshness {
    /// When the state file (or, without it, the previous copy) was last written, in Unix seconds.
    static func savedAt(_ store: AgentStateStore) -> Int64? {
        for path in [store.path, store.previousPath] {
            var status = stat()
            if stat(path, &status) == 0 { return Int64(status.st_mtim.tv_sec) }
        }
        return nil
    }

    /// Why the state is stale, or nil when it is fresh. Failed polls back off up to five poll
    /// intervals (at least 5 minutes), hence the margin; a daemon gets two intervals and a minute for
    /// its first save.
    static func staleness(savedAt: Int64?, now: Int64, pollSeconds: Int64, daemonStartedAt: Int64?) -> String? {
        guard let savedAt else { return nil }  // no state yet: the caller reports that
        let age = max(0, now - savedAt)
        let limit = max(6 * pollSeconds, 600)
        if age > limit {
            return "was last saved \(DurationWords.describe(age)) ago (poll interval \(pollSeconds) s)"
        }
        if let started = daemonStartedAt, savedAt < started, now - started > 2 * pollSeconds + 60 {
            return "was last saved before the running agent started "
                + "(\(UTCDateTime(secondsSinceEpoch: savedAt).iso8601), the agent started \(UTCDateTime(secondsSinceEpoch: started).iso8601))"
        }
        return nil
    }

    /// When process `pid` started, in Unix seconds (`/proc/PID/stat` field 22 and the boot time).
    static func startTime(of pid: Int32) -> Int64? {
        guard let stat = try? FileReader.readText("/proc/\(pid)/stat", limit: 64 * 1024),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Int64(fields[19]),
            let boot = try? FileReader.readText("/proc/stat", limit: 1024 * 1024),
            let line = boot.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let bootTime = Int64(line.dropFirst(6))
        else { return nil }
        let perSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return perSecond > 0 ? bootTime + ticks / perSecond : nil
    }
}
