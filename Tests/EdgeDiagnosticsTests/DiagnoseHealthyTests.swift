import EmnifyEmulator
import Foundation
import TestSupport
import Testing

/// A healthy gateway: every check passes, the JSON has the documented shape, the bundle holds
/// what it should and no secret, and the closed-loop reset goes end to end.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DiagnoseHealthyTests {
    @Test func everyCheckPassesOnAHealthySetup() async throws {
        let fixture = try await DiagnoseFixture()
        try await fixture.using {
            try await fixture.startAgent()

            let text = try await fixture.diagnose()
            #expect(text.exitCode == 0, "\(text.standardOutput)\n\(text.standardError)")
            for title in [
                "Configuration", "Clock", "Modem", "Network path to the API", "emnify account", "emnify's view",
                "Recent events", "Local MQTT broker", "Agent daemon",
            ] {
                #expect(
                    text.standardOutput.contains("PASS  \(title)"), "\(title) did not pass:\n\(text.standardOutput)")
            }
            #expect(!text.standardOutput.contains("\u{1B}["), "no colour without a terminal")
            DiagnoseFixture.expectNoSecrets(text.standardOutput + text.standardError, "the text report")

            let (result, object, checks) = try await fixture.diagnoseJSON()
            #expect(result.exitCode == 0)
            #expect(object["overall"] as? String == "pass")
            #expect(
                checks.keys.sorted() == [
                    "account", "agent", "broker", "clock", "configuration", "connectivity", "events", "modem",
                    "network",
                ])
            #expect(checks["connectivity"]?["finding"] as? String == "ONLINE: attached with a data session")
            let network = try #require(checks["network"]?["details"] as? [String: String])
            #expect(network["tcp_connect_ms"] != nil && network["tls_handshake_ms"] != nil)
            #expect(network["proxy"]?.contains("http://***@proxy.invalid:3128") == true, "\(network)")
            let clock = try #require(checks["clock"]?["details"] as? [String: String])
            #expect(Int(clock["skew_seconds"] ?? "").map { abs($0) <= 2 } == true)
            DiagnoseFixture.expectNoSecrets(result.standardOutput + result.standardError, "the JSON report")
        }
    }

    @Test func jsonMatchesTheDocumentedShape() async throws {
        let fixture = try await DiagnoseFixture(broker: false)
        try await fixture.using {
            let (result, object, _) = try await fixture.diagnoseJSON()
            #expect(result.exitCode == 1, "no broker and no agent: failures")
            #expect(
                Set(object.keys) == [
                    "schema", "tool", "generated_at", "config_file", "mode", "overall", "exit_code", "summary",
                    "checks",
                ])
            #expect(object["mode"] as? String == "poll")
            #expect(object["schema"] as? Int == 1)
            #expect(object["tool"] is String && object["generated_at"] is String && object["config_file"] is String)
            #expect(["pass", "warn", "fail"].contains(object["overall"] as? String ?? ""))
            #expect(object["exit_code"] as? Int == 1)
            let summary = try #require(object["summary"] as? [String: Int])
            #expect(Set(summary.keys) == ["pass", "warn", "fail"])
            let checks = try #require(object["checks"] as? [[String: Any]])
            #expect(checks.count == 9)
            #expect(summary.values.reduce(0, +) == checks.count)
            for check in checks {
                #expect(
                    Set(check.keys) == ["id", "title", "status", "finding", "next_step", "details", "duration_ms"],
                    "\(check.keys)")
                #expect(check["id"] is String && check["title"] is String && check["finding"] is String)
                let status = try #require(check["status"] as? String)
                #expect(["pass", "warn", "fail"].contains(status))
                if status == "pass" {
                    #expect(check["next_step"] is NSNull)
                } else {
                    #expect(check["next_step"] is String)
                }
                #expect(check["details"] is [String: String])
                #expect(check["duration_ms"] is Int)
            }
        }
    }

    @Test func warningsOnlyExitWithTwoAndTheBundleHoldsNoSecret() async throws {
        let fixture = try await DiagnoseFixture()
        try await fixture.using {
            try await fixture.startAgent()
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o644], ofItemAtPath: fixture.directory.file("application-token"))

            let bundle = fixture.directory.file("support.tar.gz")
            let result = try await fixture.diagnose(["--bundle", bundle])
            #expect(result.exitCode == 2, "\(result.standardOutput)")
            #expect(result.standardOutput.contains("WARN  Configuration"))
            #expect(result.standardOutput.contains("chmod 600"))

            let unpacked = fixture.directory.file("unpacked")
            try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
            let tar = try await ChildProcess.run("/bin/tar", ["-xzf", bundle, "-C", unpacked])
            #expect(tar.exitCode == 0, "\(tar.standardError)")
            let files = try #require(FileManager.default.subpaths(atPath: unpacked)).filter { !$0.hasSuffix("/") }
            let names = Set(files.map { ($0 as NSString).lastPathComponent })
            for expected in ["diagnose.txt", "diagnose.json", "emnify-edge.toml", "state.json", "versions.txt"] {
                #expect(names.contains(expected), "\(names)")
            }
            var everything = ""
            for file in files {
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: unpacked + "/" + file, isDirectory: &isDirectory)
                if isDirectory.boolValue { continue }
                everything += (try? String(contentsOfFile: unpacked + "/" + file, encoding: .utf8)) ?? ""
            }
            #expect(everything.contains("libcurl: libcurl/"))
            #expect(everything.contains("libmosquitto: 2."))
            DiagnoseFixture.expectNoSecrets(everything, "the bundle")
            DiagnoseFixture.expectNoSecrets(result.standardOutput + result.standardError, "the output")
        }
    }

    @Test func theClosedLoopResetGoesEndToEnd() async throws {
        let fixture = try await DiagnoseFixture()
        try await fixture.using {
            try await fixture.startAgent()
            let (result, _, checks) = try await fixture.diagnoseJSON(["--reset-connectivity", "pdp", "--yes"])
            let loop = try #require(checks["reset-loop"], "\(result.standardError)")
            #expect(loop["status"] as? String == "pass", "\(loop)\n\(result.standardError)")
            let details = try #require(loop["details"] as? [String: String])
            for key in ["patch_ms", "api_all_ms", "broker_all_ms"] {
                #expect(details[key].flatMap(Int.init) != nil, "\(key) missing: \(details)")
            }
            #expect(result.standardError.contains("resetting pdp of endpoint"), "progress on stderr")
            #expect(result.exitCode == 0, "\(result.standardOutput)")
            #expect(await fixture.emulator.control.connectivityStatus() == "ONLINE")
        }
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() async throws {
        let script = "/usr/bin/script"  // util-linux: runs the command on a pseudo-terminal
        guard FileManager.default.isExecutableFile(atPath: script) else { return }
        let fixture = try await DiagnoseFixture(broker: false)
        try await fixture.using {
            let command = "\(DiagnoseFixture.binary) diagnose --config \(fixture.configPath)"
            var environment = fixture.environment
            environment.removeValue(forKey: "NO_COLOR")
            let terminal = try await ChildProcess.run(script, ["-qc", command, "/dev/null"], environment: environment)
            #expect(
                terminal.standardOutput.contains("\u{1B}[1;31mFAIL\u{1B}[0m  Local MQTT broker"),
                "\(terminal.standardOutput)")
            environment["NO_COLOR"] = "1"
            let plain = try await ChildProcess.run(script, ["-qc", command, "/dev/null"], environment: environment)
            #expect(!plain.standardOutput.contains("\u{1B}["))
            #expect(plain.standardOutput.contains("FAIL  Local MQTT broker"))
        }
    }

    @Test func theResetNeedsConfirmationWithoutATerminal() async throws {
        let fixture = try await DiagnoseFixture(broker: false)
        try await fixture.using {
            let result = try await fixture.diagnose(["--reset-connectivity", "location"])
            #expect(result.exitCode == 64)
            #expect(result.standardError.contains("add --yes"))
        }
    }
}
