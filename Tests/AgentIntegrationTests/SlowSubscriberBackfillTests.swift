import EdgeCommon
import EdgeProcess
import EmnifyEmulator
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The gateway broker with the queue limits of `firmware-config/mosquitto/emnify-edge.conf`:
/// an application that is frozen (SIGSTOP) during the agent's first-start backfill, subscribed
/// at QoS 1 with a persistent session, still receives every event of a busy day once it runs
/// again. With the snippet's former `max_queued_messages 1000`, mosquitto dropped all but about
/// a thousand of them.
@Suite struct SlowSubscriberBackfillTests {
    /// The snippet's per-client limits, as a gateway would run them.
    static func snippetQueueLimits() throws -> [String] {
        let snippet = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("firmware-config/mosquitto/emnify-edge.conf")
        let lines = try String(contentsOf: snippet, encoding: .utf8).split(separator: "\n").map(String.init)
        let limits = lines.filter {
            ["max_queued_messages ", "max_queued_bytes ", "max_inflight_messages ", "message_size_limit "]
                .contains(where: $0.hasPrefix)
        }
        #expect(limits.contains { $0.hasPrefix("max_queued_bytes ") }, "the snippet bounds the queue in bytes")
        return limits
    }

    @Test(.timeLimit(.minutes(8)))
    func aFrozenQoS1SubscriberReceivesTheWholeDaysBackfill() async throws {
        // A SIM that cycles its data session every minute or so: 5,000 events in the last 20 hours.
        let events = 5_000
        let harness = try await AgentHarness(
            emulator: .init(tls: .selfSigned, history: events, historySpan: .seconds(20 * 3600)), backfill: "1d",
            broker: .init(persistence: true, extraConfiguration: try Self.snippetQueueLimits()))
        try await harness.subscribe()  // a fast subscriber: tells when the agent has published everything

        let slow = try LaunchedProcess.launch(
            "/usr/bin/mosquitto_sub",
            [
                "-h", "127.0.0.1", "-p", String(harness.broker.port), "-V", "mqttv311", "-i", "slow-application", "-c",
                "-q", "1", "-t", "\(harness.topicBase)/event/#",
            ], standardOutput: .pipe, standardError: .null)
        defer {
            slow.signal(SIGKILL)
            slow.waitUntilExit()
        }
        let received = Locked<[UInt8]>([])
        PipeReader.start(
            slow.standardOutput!, owner: slow, onData: { bytes in received.withLock { $0 += bytes } }, onEnd: {})
        func slowEventIDs() -> Set<Int64> {
            let text = String(decoding: received.withLock { $0 }, as: UTF8.self)
            return Set(
                text.split(separator: "\n").compactMap { line in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? Int64
                })
        }
        // Subscribed once a probe on its topic gets through; then the application freezes.
        try await harness.wait("the slow subscriber's subscription") {
            _ = try? ProcessRunner.run(
                executable: "/usr/bin/mosquitto_pub",
                arguments: [
                    "-h", "127.0.0.1", "-p", String(harness.broker.port), "-q", "1", "-t",
                    "\(harness.topicBase)/event/probe", "-m", "{\"id\":0}",
                ],
                timeout: .seconds(10))
            return slowEventIDs().contains(0)
        }
        slow.signal(SIGSTOP)

        try harness.startAgent()
        // The first health message with a successful poll comes after the backfill's last
        // acknowledged event, on the same connection, so the fast subscriber has them all by then.
        // (The history also holds events of other scopes, so the SIM's own are fewer than `events`.)
        do {
            try await harness.wait("the end of the backfill", timeout: .seconds(300)) {
                harness.lastPayload("/health")?.contains("\"last_successful_poll\":\"") == true
            }
        } catch {
            let log = (try? String(contentsOf: harness.broker.logFile, encoding: .utf8)) ?? ""
            Issue.record("published so far: \(Set(harness.receivedEventIDs).count); broker log: \(log.suffix(3000))")
            throw error
        }
        let published = Set(harness.receivedEventIDs)
        #expect(published.count > 4 * 1_000, "most of the day's \(events) events are the SIM's: \(published.count)")

        slow.signal(SIGCONT)
        let deadline = ContinuousClock.now + .seconds(60)
        while !slowEventIDs().isSuperset(of: published) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let missing = published.subtracting(slowEventIDs())
        #expect(missing.isEmpty, "\(missing.count) of \(published.count) events never reached the frozen subscriber")
        await harness.stop()
    }
}
