import EmnifyEmulator
import Foundation
import Glibc
import Testing
import TestSupport

/// A wrong application token under a service manager that restarts the agent (issue 14,
/// defect 6): emnify locks the account after three failed logins, so the pause after a refusal
/// must survive restarts, be logged at start, and be shown by `diagnose` as a date.
@Suite(.serialized) struct AuthenticationPauseTests {
    @Test func restartsWithAWrongTokenDoNotLockTheAccount() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 5))
        try await harness.subscribe()
        let wrong = ["EMNIFY_APPLICATION_TOKEN": "wrong-application-token-1234"]
        for start in 1...4 {
            try harness.startAgent(environment: wrong)
            let expected = start == 1 ? "emnify rejected the application token" : "not authenticating before"
            try await harness.wait("start \(start): '\(expected)' in the log") {
                harness.agent?.standardError.contains(expected) == true
            }
            if start > 1 {
                let log = harness.agent?.standardError ?? ""
                #expect(
                    log.range(
                        of: #"not authenticating before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, options: .regularExpression)
                        != nil, "the pause is logged at start with its end as a date: \(log.suffix(2000))")
            }
            // Like systemd's Restart= after a failure: stop, start again at once.
            harness.agent?.signal(SIGTERM)
            _ = await harness.agent!.wait(timeout: .seconds(10))
        }
        var counters = await harness.emulator.control.counters()
        #expect(counters.failedAuthentications == 1, "one failed login in four starts (emnify locks after three)")

        let diagnosis = try await ChildProcess.run(
            BuiltProducts.path(of: "emnify-edge"), ["diagnose", "--config", harness.configPath],
            environment: wrong.merging(["PATH": "/usr/bin:/bin", "NO_COLOR": "1"]) { $1 })
        let output = diagnosis.standardOutput
        #expect(
            output.range(
                of: #"authentication_paused_until: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, options: .regularExpression)
                != nil,
            "diagnose shows when the pause ends, as a date: \(output)")
        #expect(output.contains("not authenticating again before 20"), "the account check honours the pause too")
        counters = await harness.emulator.control.counters()
        #expect(counters.failedAuthentications == 1, "diagnose did not spend a login either")

        // The corrected token is tried at once and the pause ends.
        try harness.startAgent()
        let injected = await harness.emulator.control.inject(.createPDPContext)
        try await harness.wait("the event after the token was fixed") {
            Set(harness.receivedEventIDs).isSuperset(of: injected)
        }
        #expect(await harness.emulator.control.counters().authentications == 1)
        #expect(
            !FileManager.default.fileExists(atPath: harness.directory.file("state/auth-pause")), "the pause is over")
        await harness.stop()
    }
}
