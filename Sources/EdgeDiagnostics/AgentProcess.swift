import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeProcess
import EmnifyAPI
import ModemIdentity

#if canImport(Glibc)
    import Glibc
#endif

/// Whether `emnify-edge run` is running: systemd's view when systemd runs the machine, and the
/// process table (for gateways without systemd, containers and tests).
enum AgentProcess {
    /// `active`, `inactive`, `failed`, …, or nil without systemd.
    static func systemdState(unit: String) -> String? {
        guard FileReader.exists("/run/systemd/system"),
            let systemctl = ProcessRunner.find("systemctl", path: "/usr/bin:/bin")
        else {
            return nil
        }
        guard
            let output = try? ProcessRunner.run(
                executable: systemctl, arguments: ["is-active", unit], timeout: .seconds(5))
        else {
            return nil
        }
        let text = String(decoding: output.stdout, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(
            String.init)
        return text?.nilIfEmpty ?? "unknown"
    }

    /// Process ids of `emnify-edge … run` other than this process.
    static func running() -> [Int32] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        let own = getpid()
        var found: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), pid != own else { continue }
            guard let bytes = try? FileReader.read("/proc/\(pid)/cmdline", limit: 64 * 1024) else { continue }
            let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard let first = arguments.first, first.split(separator: "/").last == "emnify-edge",
                arguments.dropFirst().contains("run")
            else { continue }
            found.append(pid)
        }
        return found.sorted()
    }
}
