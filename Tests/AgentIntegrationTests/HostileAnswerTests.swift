import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// `emnify-edge run` against an API that turns hostile for a while: a 64 MB body, a body that
/// trickles for ever, 100,000-deep nesting, invalid UTF-8, an id past 64 bits and paging headers
/// that lie. The daemon keeps running, its peak memory stays bounded, and every event that
/// arrived in the meantime is published.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileAnswerTests {
    static let feeds = "/api/v1/*/event"

    static func event(_ id: String) -> String {
        #"{"id":\#(id),"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3,"description":"Create PDP Context"}}"#
    }

    @Test func theAgentSurvivesHostileAnswersAndLosesNothing() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, history: 5))
        defer { Task { await harness.stop() } }
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the backfill") { harness.receivedEventIDs.count >= 4 }
        let agent = try #require(harness.agent)
        let peakBefore = try Self.peakResidentBytes(of: agent.processIdentifier)

        let control = harness.emulator.control
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let notUTF8 =
            Array(#"[{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3},"description":""#.utf8)
            + [0xFF, 0xC3] + Array(#""}]"#.utf8)
        // Armed in this order; each matching request takes the first one left.
        await control.injectFault(
            .raw(
                RawAnswer(
                    prefix: Array("[".utf8), chunk: [UInt8](repeating: 0x20, count: 64 * 1024), repetitions: 1024,
                    suffix: Array("]".utf8), declareLength: false)),
            path: Self.feeds, count: 1)
        await control.injectFault(.trickle(interval: .milliseconds(100), byte: 0x20), path: Self.feeds, count: 1)
        await control.injectFault(.raw(RawAnswer(body: Array("[\(deep)]".utf8))), path: Self.feeds, count: 1)
        await control.injectFault(.raw(RawAnswer(body: notUTF8)), path: Self.feeds, count: 1)
        await control.injectFault(
            .raw(RawAnswer(body: Array("[\(Self.event("18446744073709551616"))]".utf8))), path: Self.feeds, count: 1)
        await control.injectFault(
            .overrideHeaders(["X-Total-Pages": "0", "X-Total-Count": "-1"]), path: Self.feeds, duration: .seconds(60))
        let injected = await control.inject(.updateLocation, count: 3)
        let deadline = ContinuousClock.now + .seconds(60)
        while await control.counters().faultsServed < 5 {
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("the hostile answers were not all served")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let more = await control.inject(.deletePDPContext, count: 2)

        try await harness.wait("every event injected during the hostile answers", timeout: .seconds(60)) {
            Set(harness.receivedEventIDs).isSuperset(of: injected + more)
        }
        #expect(agent.exitCode == nil, "the agent is still running: \(agent.standardError.suffix(2000))")
        let growth = try Self.peakResidentBytes(of: agent.processIdentifier) - peakBefore
        #expect(growth < 48 << 20, "the agent's peak resident memory grew by \(growth) bytes")
        #expect(agent.standardError.contains("max_response_size"), "the refusal is logged with what to do")
        #expect(Set(harness.receivedEventIDs).count == harness.receivedEventIDs.count, "no duplicates")
    }

    /// `VmHWM` of /proc/PID/status: the process's peak resident set.
    static func peakResidentBytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
        else { throw TestSupportError("no VmHWM in /proc/\(pid)/status") }
        return kilobytes * 1024
    }
}
