import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Testing

@testable import EdgeRelay

@Suite struct SIMStateBookTests {
    let book = SIMStateBook(topics: RelayTopics(prefix: "emnify", relayID: "a"))
    let iccid = "8988303000012345678"

    @Test func aChangeMadeWhileTheStateWasInFlightStaysPending() {
        book.apply([EventJSON.event(EventJSON.sim(id: 1, type: 3, at: "2026-12-01T10:00:01Z"))])
        let first = book.pendingMessages()
        #expect(first.map(\.iccid) == [iccid])
        book.apply([EventJSON.event(EventJSON.sim(id: 2, type: 5, at: "2026-12-01T10:00:02Z"))])
        book.published(first)
        let second = book.pendingMessages()
        #expect(second.count == 1)
        #expect(String(decoding: second[0].message.payload, as: UTF8.self).contains("\"down\""))
        book.published(second)
        #expect(book.pendingMessages().isEmpty)
    }

    @Test func aNewerRetainedStateFromTheClusterWinsAnOlderOneDoesNot() {
        book.apply([EventJSON.event(EventJSON.sim(id: 5, type: 3, at: "2026-12-01T10:00:05Z"))])
        var older = ConnectivityState()
        older.apply(EventJSON.event(EventJSON.sim(id: 4, type: 5, at: "2026-12-01T10:00:04Z")))
        book.seed(iccid: iccid, payload: MQTTMessage.json(older, topic: "t", retain: true).payload)
        #expect(book.state(iccid: iccid)?.dataSession == "up")
        var newer = ConnectivityState()
        newer.apply(EventJSON.event(EventJSON.sim(id: 6, type: 5, at: "2026-12-01T10:00:06Z")))
        book.seed(iccid: iccid, payload: MQTTMessage.json(newer, topic: "t", retain: true).payload)
        #expect(book.state(iccid: iccid)?.dataSession == "down")
        // An event older than the seeded state does not rewind it.
        book.apply([EventJSON.event(EventJSON.sim(id: 3, type: 3, at: "2026-12-01T10:00:03Z"))])
        #expect(book.state(iccid: iccid)?.dataSession == "down")
    }
}
