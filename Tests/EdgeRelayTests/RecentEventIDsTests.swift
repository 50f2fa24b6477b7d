import Testing

@testable import EdgeRelay

@Suite struct RecentEventIDsTests {
    @Test func forgetsTheOldestPastItsCapacity() {
        var recent = RecentEventIDs(capacity: 3)
        let first = recent.insert(1)
        let again = recent.insert(1)
        #expect(first && !again)
        recent.insert(2)
        recent.insert(3)
        recent.insert(4)
        #expect(!recent.contains(1))
        #expect(recent.contains(2) && recent.contains(3) && recent.contains(4))
        #expect(recent.count == 3)
        recent.insert(5)
        #expect(!recent.contains(2))
    }

    @Test func constantTimeComparison() {
        #expect(ConstantTime.equal(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal(Array("abd".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal(Array("ab".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal(Array("abcd".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal([], Array("abc".utf8)))
    }

    @Test func leadershipIsTheFirstOnlineRelay() {
        let b = PollLeadership(relayID: "relay-b")
        #expect(b.isLeader)
        b.update(relay: "relay-a", payload: Array("online".utf8))
        #expect(!b.isLeader)
        b.update(relay: "relay-a", payload: Array("offline".utf8))
        #expect(b.isLeader)
    }
}

@Suite struct StreamActivityTests {
    @Test func onlyOnlineRelaysCount() {
        let activity = StreamActivity()
        activity.delivered(relay: "gone", atMillis: 1_000)
        #expect(activity.isAlive(within: .seconds(60), nowMillis: 2_000, among: ["gone", "me"]))
        // A stopped relay's retained health says it streamed lately: it must not stop the fresh reads.
        #expect(!activity.isAlive(within: .seconds(60), nowMillis: 2_000, among: ["me"]))
        activity.delivered(relay: "me", atMillis: 1_500)
        #expect(activity.isAlive(within: .seconds(60), nowMillis: 2_000, among: ["me"]))
        #expect(!activity.isAlive(within: .seconds(60), nowMillis: 100_000, among: ["me"]))
    }

    @Test func recentIDsSinceATimeOldestFirst() {
        var recent = RecentEventIDs(capacity: 3)
        recent.insert(1, at: 10)
        recent.insert(2, at: 20)
        recent.insert(3, at: 30)
        recent.insert(4, at: 40)
        #expect(recent.ids(recordedSince: 25).map(\.id) == [3, 4])
        #expect(recent.ids(recordedSince: 0).map(\.id) == [2, 3, 4])
    }
}
