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

    /// An `emnify-edge … run` process and the configuration it runs (resolved as it opened it).
    struct Found: Equatable {
        let pid: Int32
        let configPath: String
    }

    /// The `emnify-edge … run` processes other than this one, split into those that run the
    /// configuration at `configPath` and the others (another instance with another file is not
    /// "the daemon").
    static func running(configPath: String) -> (this: [Found], others: [Found]) {
        let wanted = resolved(configPath, relativeTo: currentDirectory())
        var this: [Found] = []
        var others: [Found] = []
        for found in running() {
            if found.configPath == wanted { this.append(found) } else { others.append(found) }
        }
        return (this, others)
    }

    /// Every `emnify-edge … run` process other than this one.
    static func running() -> [Found] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        let own = getpid()
        var found: [Found] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), pid != own else { continue }
            guard let bytes = try? FileReader.read("/proc/\(pid)/cmdline", limit: 64 * 1024) else { continue }
            var arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            if arguments.last == "" { arguments.removeLast() }
            guard let first = arguments.first, first.split(separator: "/").last == "emnify-edge",
                arguments.dropFirst().contains("run")
            else { continue }
            let path = configArgument(arguments) ?? ConfigurationLoader.defaultPath
            let directory = link("/proc/\(pid)/cwd") ?? "/"
            found.append(Found(pid: pid, configPath: resolved(path, relativeTo: directory)))
        }
        return found.sorted { $0.pid < $1.pid }
    }

    /// The value of `--config FILE` or `--config=FILE` (the last one wins, as in ArgumentParser).
    static func configArgument(_ arguments: [String]) -> String? {
        var value: String?
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == "--config", index + 1 < arguments.count {
                value = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix("--config=") {
                value = String(argument.dropFirst("--config=".count))
            }
            index += 1
        }
        return value
    }

    /// An absolute path with symbolic links resolved where the file exists.
    static func resolved(_ path: String, relativeTo directory: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
        guard let real = realpath(absolute, nil) else { return absolute }
        defer { free(real) }
        return String(cString: real)
    }

    private static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(cString: buffer)
    }
}
