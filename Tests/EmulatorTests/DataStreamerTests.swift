import EmnifyEmulator
import Foundation
import TestSupport
import Testing

@Suite("Data Streamer stand-in: webhook streams")
struct DataStreamerTests {
    private func organisation(sims: Int = 10, history: Int = 0) async throws -> TestEmulator {
        var configuration = EmulatorServer.Configuration(tls: .none, applicationToken: "t", history: history)
        configuration.sims = sims
        return try await TestEmulator.start(configuration)
    }

    @Test func deliversEveryEventAtLeastOnceThroughAnOutageWithTheHeader() async throws {
        let receiver = try await WebhookReceiver.start(failingFirst: 3)
        let test = try await organisation()
        let stream = try await test.createStream(
            json: """
                {"url":"\(receiver.url)","headers":["Authorization:Bearer xyz"],"size":5,"interval_ms":5,
                "retry_initial_ms":20,"retry_max_ms":80}
                """)
        var ids = try await test.generateEvents(count: 40)
        ids += await test.control.inject(.userVerified)
        ids += await test.control.inject(.organisationUpdated)
        ids += try await test.generateEvents(count: 10)
        let done = try await test.waitForStream(stream) { ($0["delivered"] as? Int) == ids.count }
        #expect(done["pending"] as? Int == 0)
        #expect(done["failures"] as? Int == 3 && done["retries"] as? Int == 3)
        #expect(done["status"] as? String == "running" && done["last_status"] as? Int == 200)
        #expect(done["headers"] as? [String] == ["Authorization:***"])
        let listed = try await test.curl("/_emulator/streams")
        #expect(!listed.bodyText.contains("xyz"))

        let received = receiver.received
        #expect(received.count(where: { $0.status == 503 }) == 3)
        #expect(received.allSatisfy { $0.authorization == "Bearer xyz" && $0.method == "POST" })
        #expect(received.allSatisfy { $0.isArray && (1...5).contains((try? $0.ids().count) ?? 0) })
        #expect(received.allSatisfy { $0.contentType == "application/json" })
        let acknowledged = try receiver.acknowledgedIDs()
        #expect(Set(acknowledged) == Set(ids))
        #expect(await test.control.deleteStream(stream))
        #expect(try await test.curl("/_emulator/streams").bodyText == #"{"streams":[]}"#)
        await test.stop()
        await receiver.stop()
    }

    /// Timeouts and refused connections are retried like error answers, and nothing is lost.
    @Test func retriesTimeoutsAndRefusedConnections() async throws {
        let stalling = try await WebhookReceiver.start(stallingFirst: 2, stall: .seconds(5))
        let test = try await organisation()
        let stream = try await test.createStream(
            json: """
                {"url":"\(stalling.url)","size":10,"interval_ms":0,"timeout_ms":1000,
                "retry_initial_ms":10,"retry_max_ms":50}
                """)
        let ids = try await test.generateEvents(count: 15)
        let done = try await test.waitForStream(stream) { ($0["delivered"] as? Int) == 15 }
        // At least the two stalled requests timed out (on a busy machine another may, too).
        #expect(done["failures"] as? Int ?? 0 >= 2)
        #expect(stalling.received.count(where: { $0.status == 0 }) == 2)
        #expect(Set(try stalling.acknowledgedIDs()) == Set(ids))
        await stalling.stop()

        // The receiver is gone: connections are refused until one listens on the port again.
        let port = stalling.port
        let more = try await test.generateEvents(count: 5)
        let refused = try await test.waitForStream(stream) { ($0["failures"] as? Int ?? 0) >= 4 }
        #expect((refused["last_error"] as? String ?? "").lowercased().contains("connect"))
        #expect(refused["status"] as? String == "retrying" && refused["pending"] as? Int == 5)
        let back = try await WebhookReceiver.start(port: port)
        _ = try await test.waitForStream(stream) { ($0["delivered"] as? Int) == 20 }
        #expect(Set(try back.acknowledgedIDs()) == Set(more))
        await test.stop()
        await back.stop()
    }

    /// An https:// receiver is verified against `ca_file` (another emulator serves TLS here:
    /// reaching its HTTP answer, a 404, proves the handshake and verification passed).
    @Test func httpsReceiversAreVerifiedAgainstTheCAFile() async throws {
        let target = try await TestEmulator.start()
        let caFile = try #require(target.caFile)
        let test = try await organisation()
        let url = target.baseURL + "/hook"
        let trusted = try await test.createStream(
            json: #"{"url":"\#(url)","size":1,"interval_ms":0,"retry_initial_ms":10,"ca_file":"\#(caFile)"}"#)
        let untrusted = try await test.createStream(
            json: #"{"url":"\#(url)","size":1,"interval_ms":0,"retry_initial_ms":10}"#)
        _ = try await test.generateEvents(count: 1)
        let verified = try await test.waitForStream(trusted) { $0["last_status"] is Int }
        #expect(verified["last_status"] as? Int == 404 && verified["pending"] as? Int == 1)
        let rejected = try await test.waitForStream(untrusted) { ($0["failures"] as? Int ?? 0) >= 1 }
        #expect(rejected["last_status"] is NSNull)
        #expect((rejected["last_error"] as? String ?? "").lowercased().contains("certificate"))
        await test.stop()
        await target.stop()
    }

    @Test func sizeOneSendsObjectsWithTheMethodAndGeneratedOnlySkipsInjectedEvents() async throws {
        let receiver = try await WebhookReceiver.start()
        let test = try await organisation()
        let stream = try await test.createStream(
            json: #"{"url":"\#(receiver.url)","method":"PUT","size":1,"interval_ms":0,"events":"generated"}"#)
        let generated = try await test.generateEvents(count: 6)
        let raw = try await test.control.injectRaw(OrganisationFeedTests.documentedUserEvent)
        let more = try await test.generateEvents(count: 2)
        _ = try await test.waitForStream(stream) { ($0["delivered"] as? Int) == 8 }
        let received = receiver.received
        #expect(received.count == 8)
        #expect(received.allSatisfy { !$0.isArray && $0.method == "PUT" })
        #expect(try receiver.acknowledgedIDs() == generated + more)
        #expect(try !receiver.acknowledgedIDs().contains(raw))
        await test.stop()
        await receiver.stop()
    }

    @Test func duplicateRateOneSendsEveryAcknowledgedBatchTwice() async throws {
        let receiver = try await WebhookReceiver.start()
        let test = try await organisation()
        let stream = try await test.createStream(
            json: #"{"url":"\#(receiver.url)","size":3,"interval_ms":0,"faults":{"duplicate_rate":1}}"#)
        let ids = try await test.generateEvents(count: 9)
        let done = try await test.waitForStream(stream) {
            ($0["delivered"] as? Int) == 9 && ($0["duplicates"] as? Int) == 9
        }
        #expect(done["pending"] as? Int == 0)
        let acknowledged = try receiver.acknowledgedIDs()
        #expect(acknowledged.count == 18)
        #expect(Set(acknowledged) == Set(ids))
        #expect(ids.allSatisfy { id in acknowledged.count(where: { $0 == id }) == 2 })
        await test.stop()
        await receiver.stop()
    }

    @Test func reorderShufflesBatchesOfTheBacklog() async throws {
        let receiver = try await WebhookReceiver.start()
        let test = try await organisation(sims: 1, history: 200)
        let all = try await test.curl("/api/v1/event?per_page=1000", authenticated: true).jsonArray()
        let history = all.compactMap { ($0["id"] as? NSNumber)?.int64Value }
        #expect(history.count == 200)
        let stream = try await test.createStream(
            json: """
                {"url":"\(receiver.url)","size":50,"interval_ms":0,"backlog_since":"2000-01-01T00:00:00Z",
                "faults":{"reorder":true}}
                """)
        _ = try await test.waitForStream(stream) { ($0["delivered"] as? Int) == 200 }
        let batches = try receiver.received.map { try $0.ids() }
        #expect(batches.count == 4)
        #expect(Set(batches.flatMap { $0 }) == Set(history))
        #expect(batches.contains { $0 != $0.sorted() })
        await test.stop()
        await receiver.stop()
    }

    @Test func aPausedStreamKeepsItsEventsAndDeliversThemOnRestart() async throws {
        let receiver = try await WebhookReceiver.start()
        let test = try await organisation()
        let stream = try await test.createStream(json: #"{"url":"\#(receiver.url)","size":100,"interval_ms":0}"#)
        try await test.controlCall("POST", "streams/\(stream)/pause")
        let ids = try await test.generateEvents(count: 12)
        let paused = try await test.waitForStream(stream) { ($0["pending"] as? Int) == 12 }
        #expect(paused["status"] as? String == "paused" && paused["delivered"] as? Int == 0)
        #expect(receiver.received.isEmpty)
        try await test.controlCall("POST", "streams/\(stream)/restart")
        _ = try await test.waitForStream(stream) { ($0["delivered"] as? Int) == 12 }
        #expect(Set(try receiver.acknowledgedIDs()) == Set(ids))
        let invalid = try await test.curl("/_emulator/streams", method: "POST", body: #"{"url":"ftp://x","size":0}"#)
        #expect(invalid.status == 400 && invalid.bodyText.contains("http://"))
        let tooBig = try await test.curl(
            "/_emulator/streams", method: "POST", body: #"{"url":"http://127.0.0.1:1/","size":10001}"#)
        #expect(tooBig.status == 400 && tooBig.bodyText.contains("1...10000"))
        await test.stop()
        await receiver.stop()
    }

    /// The backlog takes the same events as new ones: a generated-only stream skips a raw event that an `all`
    /// stream over the same backlog delivers (so the raw event is inside the backlog's window).
    @Test func aGeneratedOnlyStreamSkipsRawEventsOfTheBacklog() async throws {
        let generatedOnly = try await WebhookReceiver.start()
        let everything = try await WebhookReceiver.start()
        let test = try await organisation(sims: 1, history: 20)
        let all = try await test.curl("/api/v1/event?per_page=1000", authenticated: true).jsonArray()
        let history = all.compactMap { ($0["id"] as? NSNumber)?.int64Value }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let raw = try await test.control.injectRaw(
            OrganisationFeedTests.documentedUserEvent.replacingOccurrences(
                of: "2021-12-20T00:12:23.000Z", with: formatter.string(from: Date())))
        let backlog = #""size":100,"interval_ms":0,"backlog_since":"2000-01-01T00:00:00Z""#
        let generated = try await test.createStream(
            json: #"{"url":"\#(generatedOnly.url)",\#(backlog),"events":"generated"}"#)
        let control = try await test.createStream(json: #"{"url":"\#(everything.url)",\#(backlog)}"#)
        let sent = { (status: [String: Any]) in
            (status["pending"] as? Int) == 0 && (status["delivered"] as? Int ?? 0) > 0
        }
        let done = try await test.waitForStream(generated, until: sent)
        _ = try await test.waitForStream(control, until: sent)
        #expect(history.count == 20)
        #expect(done["delivered"] as? Int == history.count)
        #expect(Set(try generatedOnly.acknowledgedIDs()) == Set(history))
        #expect(Set(try everything.acknowledgedIDs()) == Set(history + [raw]))
        await test.stop()
        await generatedOnly.stop()
        await everything.stop()
    }
}
