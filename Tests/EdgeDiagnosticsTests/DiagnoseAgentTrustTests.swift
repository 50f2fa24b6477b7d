import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 14, defect 7: `diagnose` trusted a state file the running daemon could no longer write, and
/// took another `emnify-edge run` with another configuration for the daemon.
@Suite(.serialized) struct DiagnoseAgentTrustTests {
    /// A state directory the daemon cannot write (immutable, so even root cannot create files in it):
    /// the state file stays as it was; made an hour old, it must not pass as "state: ok".
    @Test func aStateFileTheDaemonNoLongerWritesIsStale() async throws {
        let fixture = try await DiagnoseFixture()
        let stateDirectory = fixture.stateDirectory
        try await fixture.using {
            try await fixture.startAgent()
            try await chattr("+i", stateDirectory)
            do {
                var times = [
                    timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0),
                ]
                #expect(utimensat(AT_FDCWD, stateDirectory + "/state.json", &times, 0) == 0)
                let (_, _, checks) = try await fixture.diagnoseJSON()
                let agent = try #require(checks["agent"])
                let details = try #require(agent["details"] as? [String: String])
                #expect(agent["status"] as? String == "warn", "\(agent)")
                #expect(details["state"]?.hasPrefix("stale: was last saved 60 min ago") == true, "\(details)")
                #expect((agent["finding"] as? String)?.contains("but its state file was last saved") == true)
                #expect((agent["next_step"] as? String)?.contains("\(stateDirectory) is writable") == true)
            } catch {
                try? await chattr("-i", stateDirectory)
                throw error
            }
            try await chattr("-i", stateDirectory)
        }
    }

    @Test func anotherAgentWithAnotherConfigurationIsNotTheDaemon() async throws {
        let fixture = try await DiagnoseFixture()
        try await fixture.using {
            let otherState = fixture.directory.file("other-state")
            try FileManager.default.createDirectory(atPath: otherState, withIntermediateDirectories: true)
            let other = try fixture.directory.write(
                try String(contentsOfFile: fixture.configPath, encoding: .utf8)
                    .replacingOccurrences(of: fixture.stateDirectory, with: otherState),
                to: "other.toml")
            let agent = try RunningProcess(
                DiagnoseFixture.binary, ["run", "--config", other], environment: fixture.environment)
            defer { agent.kill() }
            let deadline = ContinuousClock.now + .seconds(20)
            while !FileManager.default.fileExists(atPath: otherState + "/state.json") && ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(100))
            }
            let (_, _, checks) = try await fixture.diagnoseJSON()
            let check = try #require(checks["agent"])
            let details = try #require(check["details"] as? [String: String])
            #expect(check["status"] as? String == "fail", "\(check)")
            #expect(
                (check["finding"] as? String)?.hasPrefix("the agent for \(fixture.configPath) is not running") == true)
            // Agents of other tests may run too: each is listed with its file.
            #expect(
                details["other_agents"]?.contains("pid \(agent.processIdentifier) runs \(other)") == true, "\(details)")
            #expect(details["pids"] == nil)

            // The same file named differently (a symbolic link) is this configuration.
            let link = fixture.directory.file("link.toml")
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: other)
            let viaLink = try await ChildProcess.run(
                DiagnoseFixture.binary, ["diagnose", "--json", "--config", link], environment: fixture.environment)
            let object = try JSONSerialization.jsonObject(with: Data(viaLink.standardOutput.utf8)) as? [String: Any]
            let linked = (object?["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "agent" }
            #expect(
                (linked?["details"] as? [String: String])?["pids"] == "\(agent.processIdentifier)",
                "\(String(describing: linked))")
        }
    }
}

/// chattr: an immutable directory is read-only for root too (tests run as root).
private func chattr(_ flag: String, _ path: String) async throws {
    let result = try await ChildProcess.run("/usr/bin/chattr", [flag, path], timeout: .seconds(10))
    guard result.exitCode == 0 else { throw TestSupportError("chattr \(flag) \(path): \(result.standardError)") }
}
