import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeProcess
import EdgeMQTT
import EmnifyAPI
import ModemIdentity

#if canImport(Glibc)
    import Glibc
#endif

/// `--bundle FILE`: a tar.gz for support with the diagnose report in both forms, the configuration
/// with secrets redacted, the agent's state files, recent journal lines of the service, and the
/// versions of emnify-edge, libcurl, libmosquitto, ModemManager and the OS. Every file passes
/// through the session's `Redactor`; the cached JWT (`auth-token`) is never included.
public enum SupportBundle {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The files of the bundle, name → content, already redacted.
    public static func files(report: DiagnosticReport, session: DiagnosticSession) async -> [(String, String)] {
        let redactor = session.redactor
        var files: [(String, String)] = [
            ("diagnose.txt", report.text(colour: false)),
            ("diagnose.json", report.json()),
        ]
        if let config = try? FileReader.readText(session.inputs.configPath, limit: 1 << 20) {
            files.append(("emnify-edge.toml", redactor.redactTOML(config)))
        }
        let stateDir = session.configuration.agent.stateDir
        for name in ["state.json", "state.json.prev"] {
            if let text = try? FileReader.readText(stateDir + "/" + name, limit: 16 << 20) {
                files.append(("state/" + name, text))
            }
        }
        let service = session.inputs.serviceName
        let (journal, versions) = await BlockingExecutor.shared.run { (journalLines(unit: service), versionText()) }
        if let journal { files.append(("journal.txt", journal)) }
        files.append(("versions.txt", "emnify-edge \(session.inputs.version)\n" + versions))
        return files.map { ($0.0, redactor.redact($0.1)) }
    }

    /// Writes the bundle to `path` (mode 0600): tar in memory, gzip by `/bin/gzip` as a child process.
    public static func write(to path: String, report: DiagnosticReport, session: DiagnosticSession)
        async throws(Failure)
    {
        let files = await files(report: report, session: session)
        let now = session.clock.nowSeconds()
        let directory = "emnify-edge-diagnose-" + UTCDateTime(secondsSinceEpoch: now).iso8601.filter { $0.isNumber }
        var tar = TarArchive()
        for (name, content) in files {
            tar.add(directory + "/" + name, Array(content.utf8), modified: now)
        }
        let temporary = path + ".tar.tmp"
        do {
            try AtomicFile.write(tar.finished, to: temporary, mode: 0o600)
        } catch {
            throw Failure(description: "cannot write \(temporary): \(error)")
        }
        defer { unlink(temporary) }
        let candidates: [String] = ["/bin/gzip", "/usr/bin/gzip"]
        let gzip = candidates.first { access($0, X_OK) == 0 }
        guard let gzip else { throw Failure(description: "gzip is not installed (/bin/gzip)") }
        let output = try? await BlockingExecutor.shared.run { () throws(ProcessRunError) -> ProcessOutput in
            try ProcessRunner.run(executable: gzip, arguments: ["-c", "-n", "-9", temporary], timeout: .seconds(60))
        }
        guard let output, output.status == 0 else {
            throw Failure(description: "gzip failed on \(temporary)")
        }
        do {
            try AtomicFile.write(output.stdout, to: path, mode: 0o600)
        } catch {
            throw Failure(description: "cannot write \(path): \(error)")
        }
    }

    static func journalLines(unit: String) -> String? {
        guard let journalctl = ProcessRunner.find("journalctl", path: "/usr/bin:/bin"),
            let output = try? ProcessRunner.run(
                executable: journalctl, arguments: ["-u", unit, "-n", "300", "--no-pager", "-o", "short-iso"],
                timeout: .seconds(10)),
            output.status == 0
        else { return nil }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    static func versionText() -> String {
        var lines = ["libcurl: \(CurlTransport.libraryVersion)", "libmosquitto: \(MQTTConnection.libraryVersion)"]
        if let mmcli = ProcessRunner.find("mmcli", path: "/usr/bin:/bin:/usr/sbin:/sbin"),
            let output = try? ProcessRunner.run(executable: mmcli, arguments: ["--version"], timeout: .seconds(5))
        {
            let first = String(decoding: output.stdout, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(
                String.init)
            lines.append("ModemManager: \(first ?? "unknown")")
        } else {
            lines.append("ModemManager: not installed")
        }
        if let release = try? FileReader.readText("/etc/os-release", limit: 64 * 1024) {
            let pretty = release.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            lines.append("OS: " + (pretty.map { String($0.dropFirst(12)).filter { $0 != "\"" } } ?? "unknown"))
        }
        var names = utsname()
        if uname(&names) == 0 {
            func field<T>(_ value: T) -> String {
                withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            }
            lines.append("kernel: \(field(names.sysname)) \(field(names.release)) \(field(names.machine))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
