import EmnifyEmulator
import Foundation
import Glibc
import Testing
import TestSupport

/// The real agent with a wrong gateway clock (issue 14, defect 4): `WallClockShim` moves the
/// agent's wall clock only (the emulator and mosquitto run at true time, and the monotonic clock stays
/// real, as when NTP or an operator sets the clock); every injected event must be published
/// exactly once, without a login per poll, and the log must name the clock offset.
@Suite(.serialized) struct GatewayClockTests {
    /// The agent with its wall clock `seconds` off (see `WallClockShim`, and why not libfaketime).
    static func startAgent(_ harness: AgentHarness, offsetSeconds seconds: Int64) async throws -> String {
        let file = harness.directory.file("clock-offset")
        try WallClockShim.set(file, seconds: seconds)
        try harness.startAgent(
            environment: try await WallClockShim.environment(in: harness.directory, offsetFile: file))
        return file
    }

    static func harness() async throws -> AgentHarness {
        try await AgentHarness(emulator: .init(tls: .selfSigned, history: 5))
    }

    /// Injects three events, waits until the agent published them, and checks each arrived once.
    static func injectAndExpectOnce(_ harness: AgentHarness, _ what: String) async throws {
        let injected =
            await harness.emulator.control.inject(.createPDPContext, count: 2)
            + harness.emulator.control.inject(.deletePDPContext)
        try await harness.wait(what) { Set(harness.receivedEventIDs).isSuperset(of: injected) }
        for id in injected {
            #expect(harness.receivedEventIDs.filter { $0 == id }.count == 1, "event \(id) published once (\(what))")
        }
    }

    /// Lets the agent poll `polls` more times (by the emulator's count), then checks it logged in once.
    static func expectNoLoginLoop(_ harness: AgentHarness, polls: Int = 8) async throws {
        let feedRequests: @Sendable (EmulatorCounters) -> Int = { counters in
            counters.requestsPerPath.filter { $0.key.hasSuffix("/event") }.values.reduce(0, +)
        }
        let before = feedRequests(await harness.emulator.control.counters())
        let deadline = ContinuousClock.now + .seconds(60)
        while feedRequests(await harness.emulator.control.counters()) < before + 2 * polls {
            guard ContinuousClock.now < deadline else { throw TestSupportError("the agent stopped polling") }
            try await Task.sleep(for: .milliseconds(200))
        }
        let counters = await harness.emulator.control.counters()
        #expect(counters.authentications == 1, "one login, not one per poll")
        #expect(counters.failedAuthentications == 0)
        #expect(counters.statusCodes["401"] == nil, "the token was never used past its expiry")
    }

    @Test(arguments: [5 * 3600, -5 * 3600, 2 * 86_400, -2 * 86_400] as [Int64])
    func aGatewayClockOffAtTheFirstStartLosesNothing(offsetSeconds: Int64) async throws {
        let harness = try await Self.harness()
        try await harness.subscribe()
        _ = try await Self.startAgent(harness, offsetSeconds: offsetSeconds)
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 5 }
        try await Self.injectAndExpectOnce(harness, "the events injected with the clock \(offsetSeconds) s off")
        try await Self.expectNoLoginLoop(harness)
        let log = harness.agent?.standardError ?? ""
        #expect(log.contains("clock_offset_seconds"), "the log names the clock offset")
        #expect(log.contains("s \(offsetSeconds > 0 ? "ahead of" : "behind") the API's"), "\(log.suffix(1500))")
        let health = try #require(harness.lastPayload("/health"))
        let lag = try #require(
            (try JSONSerialization.jsonObject(with: Data(health.utf8)) as? [String: Any])?["cursor_lag_seconds"] as? Int
        )
        #expect((0..<600).contains(lag), "the lag is measured on the API's clock: \(lag)")
        await harness.stop()
    }

    @Test func theGatewayClockSetWhileRunningLosesNothing() async throws {
        let harness = try await Self.harness()
        try await harness.subscribe()
        let clockFile = try await Self.startAgent(harness, offsetSeconds: -86_400)
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 5 }
        try await Self.injectAndExpectOnce(harness, "the events with the clock a day behind")
        // Set forward by 30 hours (past the JWT's 4-hour lifetime), then NTP brings true time.
        for (seconds, name, logged) in [(6 * 3600, "six hours ahead", 2), (0, "true time", 3)] as [(Int64, String, Int)]
        {
            try WallClockShim.set(clockFile, seconds: seconds)
            try await harness.wait("the jump to \(name) in the log") {
                (harness.agent?.standardError ?? "").components(separatedBy: "the gateway clock was set").count
                    >= logged
            }
            try await Self.injectAndExpectOnce(harness, "the events with the clock \(name)")
        }
        try await Self.expectNoLoginLoop(harness)
        await harness.stop()
    }

    @Test func aCursorFarInTheFutureIsReportedAndNothingIsLost() async throws {
        let harness = try await Self.harness()
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 5 }
        harness.agent?.signal(SIGTERM)
        _ = await harness.agent!.wait(timeout: .seconds(10))
        // The state file as the issue found it: a valid file whose cursors lie 10^12 ms ahead.
        let statePath = harness.directory.file("state/state.json")
        var state = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any])
        var cursors = try #require(state["cursors"] as? [String: [String: Any]])
        for (key, var cursor) in cursors {
            for field in ["newestMillis", "windowStart"] {
                cursor[field] = try #require(cursor[field] as? Int64) + 1_000_000_000_000
            }
            cursors[key] = cursor
        }
        state["cursors"] = cursors
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: statePath))

        let diagnosis = try await ChildProcess.run(
            BuiltProducts.path(of: "emnify-edge"), ["diagnose", "--config", harness.configPath],
            environment: ["EMNIFY_APPLICATION_TOKEN": harness.token, "PATH": "/usr/bin:/bin", "NO_COLOR": "1"])
        #expect(
            diagnosis.standardOutput.contains("state: damaged: the cursor of endpoint:"), "\(diagnosis.standardOutput)")
        #expect(diagnosis.standardOutput.contains("ahead of the API's clock"))
        #expect(diagnosis.standardOutput.contains("clock_offset_seconds: "))

        try harness.startAgent()
        try await Self.injectAndExpectOnce(harness, "the events injected after the damage")
        #expect(harness.agent?.standardError.contains("ahead of the API's clock: damaged") == true)
        await harness.stop()
    }
}
