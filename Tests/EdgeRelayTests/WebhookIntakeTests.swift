import EdgeAgent
import EdgeCommon
import EdgeMQTT
import EmnifyAPI
import Foundation
import Logging
import TestSupport
import Testing

@testable import EdgeRelay

@Suite struct WebhookIntakeTests {
    let directory = try! TemporaryDirectory()
    let cluster = InMemoryCluster()
    let topics = RelayTopics(prefix: "emnify", relayID: "relay-a")

    func intake(ackTimeout: Duration = .seconds(5)) -> (WebhookIntake, RelayPipeline) {
        let pipeline = RelayPipeline(cluster: cluster, topics: topics, recentCapacity: 1000)
        let intake = WebhookIntake(
            pipeline: pipeline, deadLetters: DeadLetterFile(directory: directory.path), secret: Array("s3cret".utf8),
            ackTimeout: ackTimeout, logger: Logger(label: "test"), now: { 1_700_000_000_000 })
        return (intake, pipeline)
    }

    func body(_ parts: [String]) -> [UInt8] { Array(("[" + parts.joined(separator: ",") + "]").utf8) }

    @Test func anArrayIsPublishedPerSIMAndOrgEventsOnTheOrgTopic() async {
        let (intake, _) = intake()
        let answer = await intake.receive(
            authorization: "Bearer s3cret",
            body: body([
                EventJSON.sim(id: 2, at: "2026-12-01T10:00:02.000Z"), EventJSON.user(id: 3, at: "2026-12-01T10:00:03Z"),
                EventJSON.sim(id: 1, at: "2026-12-01T10:00:01.000Z"),
            ]))
        #expect(answer.status == 200)
        let events = cluster.published.filter { !$0.retain }
        #expect(
            events.map(\.topic) == [
                "emnify/8988303000012345678/event/create-pdp-context",
                "emnify/8988303000012345678/event/create-pdp-context", "emnify/org/event/user-authentication-failed",
            ])
        // Oldest first, payload exactly as sent.
        #expect(
            String(decoding: events[0].payload, as: UTF8.self) == EventJSON.sim(id: 1, at: "2026-12-01T10:00:01.000Z"))
        let state = cluster.published.filter(\.retain)
        #expect(state.map(\.topic) == ["emnify/8988303000012345678/state"])
        #expect(String(decoding: state[0].payload, as: UTF8.self).contains("\"data_session\":\"up\""))
    }

    @Test func oneObjectIsOneEvent() async {
        let (intake, _) = intake()
        let answer = await intake.receive(
            authorization: "bearer s3cret", body: Array(EventJSON.sim(id: 7, at: "2026-12-01T10:00:00Z").utf8))
        #expect(answer.status == 200)
        #expect(cluster.published.filter { !$0.retain }.count == 1)
    }

    @Test(arguments: [nil, "", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "Bearer S3CRET"])
    func aWrongOrMissingTokenIs401AndPublishesNothing(header: String?) async {
        let (intake, pipeline) = intake()
        let answer = await intake.receive(
            authorization: header, body: body([EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z")]))
        #expect(answer.status == 401)
        #expect(cluster.published.isEmpty)
        #expect(pipeline.counters.withLock { $0.webhookRefused } == 1)
    }

    @Test(arguments: ["", "   ", "not json", "[1,2", "{\"id\":1", "\"text\"", "{} {}", "[{}]]"])
    func aBodyThatIsNotJSONIs400(text: String) async {
        let (intake, _) = intake()
        let answer = await intake.receive(authorization: "Bearer s3cret", body: Array(text.utf8))
        #expect(answer.status == 400, "\(text)")
        #expect(cluster.published.isEmpty)
    }

    @Test func invalidUTF8Is400() async {
        let (intake, _) = intake()
        var bytes = Array(EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z").utf8)
        bytes.insert(0xFF, at: 40)
        let answer = await intake.receive(authorization: "Bearer s3cret", body: bytes)
        #expect(answer.status == 400)
        #expect(answer.body.contains("UTF-8"))
    }

    @Test func badElementsGoToTheDeadLetterFileAndTheRestIsPublished() async throws {
        let (intake, pipeline) = intake()
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let answer = await intake.receive(
            authorization: "Bearer s3cret",
            body: body([
                EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z"),
                EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z").replacingOccurrences(
                    of: "\"id\":1,", with: "\"id\":18446744073709551616,"),
                "{\"timestamp\":\"2026-12-01T10:00:00Z\"}", deep, "42",
                "{\"volume\":{\"rx\":1,\"tx\":2},\"traffic_type\":{\"id\":5},\"start_timestamp\":\"2026-12-01T10:00:00Z\"}",
            ]))
        #expect(answer.status == 200)
        #expect(answer.body.contains("\"dead_lettered\":4"))
        #expect(answer.body.contains("\"usage_ignored\":1"))
        #expect(cluster.published.filter { !$0.retain }.count == 1)
        #expect(pipeline.counters.withLock { $0.deadLettered } == 4)
        let lines = try String(contentsOfFile: directory.path + "/dead-letter.jsonl", encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].contains("18446744073709551616"))
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path + "/dead-letter.jsonl")[
            .posixPermissions]
        #expect(mode as? Int == 0o600)
    }

    @Test func repeatsOfTheStreamerArePublishedOnce() async {
        let (intake, _) = intake()
        let request = body([
            EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z"), EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z"),
        ])
        #expect(await intake.receive(authorization: "Bearer s3cret", body: request).status == 200)
        let again = await intake.receive(authorization: "Bearer s3cret", body: request)
        #expect(again.status == 200)
        #expect(again.body.contains("\"published\":0,\"duplicates\":2"))
        #expect(cluster.published.filter { !$0.retain }.count == 1)
    }

    @Test func aDeadClusterIs503WithRetryAfterAndTheRetryPublishes() async {
        let (intake, _) = intake()
        cluster.store.withLock { $0.failing = .notConnected }
        let request = body([EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z")])
        let answer = await intake.receive(authorization: "Bearer s3cret", body: request)
        #expect(answer.status == 503)
        #expect(answer.retryAfterSeconds == WebhookIntake.retryAfterSeconds)
        cluster.store.withLock { $0.failing = nil }
        // Not recorded as published, so the streamer's retry publishes it.
        #expect(await intake.receive(authorization: "Bearer s3cret", body: request).status == 200)
        #expect(cluster.published.filter { !$0.retain }.count == 1)
    }

    @Test func noAcknowledgementWithinTheTimeoutIs503() async {
        let (intake, _) = intake(ackTimeout: .milliseconds(200))
        cluster.store.withLock { $0.holdAcks = true }
        let answer = await intake.receive(
            authorization: "Bearer s3cret", body: body([EventJSON.sim(id: 1, at: "2026-12-01T10:00:00Z")]))
        #expect(answer.status == 503)
        #expect(answer.body.contains("acknowledge"))
    }

    @Test func anOlderEventDoesNotRewindTheState() async {
        let (intake, pipeline) = intake()
        _ = await intake.receive(
            authorization: "Bearer s3cret", body: body([EventJSON.sim(id: 5, type: 5, at: "2026-12-01T10:00:05Z")]))
        _ = await intake.receive(
            authorization: "Bearer s3cret", body: body([EventJSON.sim(id: 4, type: 3, at: "2026-12-01T10:00:04Z")]))
        #expect(pipeline.states.state(iccid: "8988303000012345678")?.dataSession == "down")
        #expect(cluster.published.filter { !$0.retain }.count == 2)
    }
}
