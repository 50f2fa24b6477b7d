import Foundation

/// Processes as /proc shows them: who is whose child, and whether a given process (pid plus
/// start time, so a reused pid is not mistaken for it) still runs.
public enum ProcessTable {
    public struct Entry: Hashable, Sendable, CustomStringConvertible {
        public let pid: Int32
        public let startTime: UInt64
        public let command: String
        public var description: String { "\(command) (pid \(pid))" }
    }

    /// The children of `parent` that run now.
    public static func children(of parent: Int32) -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap(Int32.init).compactMap { pid in
            guard let stat = stat(of: pid), stat.parent == parent, stat.state != "Z" else { return nil }
            return Entry(pid: pid, startTime: stat.startTime, command: stat.command)
        }
    }

    /// Whether `entry` still runs (a zombie does not: it has ended and waits to be reaped).
    public static func isRunning(_ entry: Entry) -> Bool {
        guard let stat = stat(of: entry.pid) else { return false }
        return stat.startTime == entry.startTime && stat.state != "Z"
    }

    private static func stat(of pid: Int32) -> (command: String, state: Character, parent: Int32, startTime: UInt64)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        // "pid (comm) state ppid … starttime(22nd field)": the command may hold spaces and parentheses.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]),
            let start = UInt64(fields[19])
        else { return nil }
        return (String(text[text.index(after: open)..<close]), state, parent, start)
    }
}
