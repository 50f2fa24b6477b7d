import EmnifyEmulator
import Foundation
import Glibc
import Testing
import TestSupport

/// The README's promise: the application token, the JWTs and the broker password never appear
/// in logs, argv, diagnostics output or a support bundle. Every built command runs against the
/// emulator and a real mosquitto with the most verbose logging (the daemon at `trace`, the
/// others with `-v`), JWTs are revoked and refused (401) so that new ones are issued during the
/// run, and everything printed or bundled is scanned for every secret the emulator ever issued,
/// in every encoding `SecretScan` knows.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SecretsNeverLeakTests {
    @Test func noTokenJWTOrPasswordInAnyOutputBundleOrArgv() async throws {
        let fixture = try await DiagnoseFixture(extraConfiguration: "\n[log]\nlevel = \"trace\"\n") {
            $0.tokenLifetime = .seconds(12)  // renewed by expiry too, besides the revocations below
        }
        try await fixture.using {
            var scanned: [(source: String, text: String)] = []
            try await fixture.startAgent()
            let agent = try #require(fixture.agent)
            let cmdline = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(agent.processIdentifier)/cmdline"))
            scanned.append(("the agent's argv", String(decoding: cmdline.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)))
            #expect(scanned[0].text.contains("run --config"), "read the right process: \(scanned[0].text)")

            // Forced re-authentication while the daemon runs: a revocation (the next request is
            // refused, the JWT renewed) and a 401 fault on the feed.
            let control = fixture.emulator.control
            await control.revokeTokens()
            try await waitFor("a renewal after the revocation") { await control.counters().authentications >= 2 }
            await control.injectFault(.unauthorized, path: "/api/v1/endpoint/*/event", count: 1)
            try await waitFor("a renewal after the 401") { await control.counters().authentications >= 3 }

            let bundle = fixture.directory.file("support.tar.gz")
            let commands: [[String]] = [
                ["events", "--since", "2h"], ["events", "--since", "2h", "--json"], ["identity"],
                ["identity", "--json"],
                ["config", "check"], ["config", "check", "--json"], ["diagnose"], ["diagnose", "--json"],
                ["diagnose", "--bundle", bundle],
                // The broker password as the bridge's cluster password: it goes into the written file only.
                [
                    "bridge-config", "--cluster", "127.0.0.1:1883", "--no-tls", "--username", DiagnoseFixture.mqttUser,
                    "--password-file", fixture.directory.file("mqtt-password"), "--output",
                    fixture.directory.file("emnify-bridge.conf"),
                ],
            ]
            for command in commands {
                await control.revokeTokens()  // each command finds a cached JWT that no longer works
                let result = try await ChildProcess.run(
                    DiagnoseFixture.binary, command + ["--config", fixture.configPath, "-v"],
                    environment: fixture.environment, timeout: .seconds(60))
                let name = command.prefix(2).joined(separator: " ")
                #expect(!result.timedOut, "\(name)")
                scanned.append(("\(name) stdout", result.standardOutput))
                scanned.append(("\(name) stderr", result.standardError))
            }
            let bridge = try String(contentsOfFile: fixture.directory.file("emnify-bridge.conf"), encoding: .utf8)
            #expect(bridge.contains("remote_password \(DiagnoseFixture.mqttPassword)"), "bridge-config wrote its file")
            let eventsLog = try #require(scanned.first { $0.source == "events --since stderr" })
            #expect(eventsLog.text.contains("/api/v1/"), "-v logged the requests: \(eventsLog.text.prefix(500))")

            // Every file of the support bundle.
            let unpacked = fixture.directory.file("unpacked")
            try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
            let tar = try await ChildProcess.run("/bin/tar", ["-xzf", bundle, "-C", unpacked])
            #expect(tar.exitCode == 0, "\(tar.standardError)")
            let files = try #require(FileManager.default.subpaths(atPath: unpacked)).filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: unpacked + "/" + path, isDirectory: &isDirectory)
                    && !isDirectory.boolValue
            }
            #expect(files.count >= 5, "\(files)")
            for file in files {
                let bytes = try #require(FileManager.default.contents(atPath: unpacked + "/" + file))
                scanned.append(("bundle file \(file)", String(decoding: bytes, as: UTF8.self)))
            }

            // The daemon's own output, after a clean stop.
            agent.signal(SIGTERM)
            let stopped = await agent.wait(timeout: .seconds(10))
            scanned.append(("the agent's stdout", stopped.standardOutput))
            scanned.append(("the agent's stderr (trace)", stopped.standardError))
            #expect(stopped.standardError.contains("/api/v1/"), "trace logging was on")

            // Every JWT the emulator issued during the run, whole and its signature alone.
            let jwts = await control.issuedTokens()
            // The daemon's first, after the revocation, after the 401; one for each of the five
            // commands that call the API (events ×2, diagnose ×3).
            #expect(jwts.count >= 8, "JWTs were issued during the run: \(jwts.count)")
            var secrets = DiagnoseFixture.secrets
            for (index, jwt) in jwts.enumerated() {
                secrets["JWT \(index + 1)"] = jwt
                secrets["JWT \(index + 1) signature"] = String(jwt.split(separator: ".").last ?? "")
            }
            let scan = SecretScan(secrets)

            // The scan finds what it looks for: the token file and the JWT cache hold them.
            let tokenFile = try String(contentsOfFile: fixture.directory.file("application-token"), encoding: .utf8)
            #expect(!scan.findings(in: tokenFile, source: "token file").isEmpty)
            let cache = try String(contentsOfFile: fixture.directory.file("state/auth-token"), encoding: .utf8)
            #expect(
                scan.findings(in: cache, source: "JWT cache").contains { $0.contains("JWT") },
                "the cache holds an issued JWT")
            let basic = Data("\(DiagnoseFixture.mqttUser):\(DiagnoseFixture.mqttPassword)".utf8).base64EncodedString()
            #expect(
                !scan.findings(in: "Authorization: Basic \(basic)", source: "sample").isEmpty, "base64 at any alignment"
            )

            var findings: [String] = []
            for (source, text) in scanned {
                findings += scan.findings(in: text, source: source)
                if text.contains("eyJ") { findings.append("\(source): a JWT-shaped string") }
            }
            #expect(findings.isEmpty, "secrets leaked:\n\(findings.joined(separator: "\n"))")
            #expect(scanned.count >= 2 * commands.count + files.count + 3)
        }
    }

    private func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw TestSupportError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
