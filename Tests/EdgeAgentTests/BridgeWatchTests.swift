@testable import EdgeAgent
import Testing

/// When a bridged agent reads the API: at start, after a reconnect, after a quiet bridge, and
/// while the bridge cannot bring events (polling). Times are milliseconds of a made-up clock.
@Suite struct BridgeWatchTests {
    var watch = BridgeWatch(quietLimit: .seconds(900), pollInterval: .seconds(60), now: 0)
    let up = Array("1".utf8)
    let down = Array("0".utf8)
    let online = Array("online".utf8)
    let offline = Array("offline".utf8)

    /// Bridge up, one relay online, the start reconciliation done: the steady state.
    mutating func steady() {
        watch.delivered(now: 100)
        watch.bridgeNotification(up, retained: true, now: 100)
        watch.delivered(now: 100)
        watch.relayStatus(relay: "r1", payload: online, now: 100)
        let start = watch.next(now: 5_000)
        #expect(start == .reconcile(reason: "start"))
        watch.done(start!, succeeded: true, now: 5_000)
    }

    @Test mutating func startReconcilesOnceTheBridgeHasDeliveredItsQueue() {
        #expect(watch.next(now: 2_000) == nil, "3 s to let the bridge deliver first")
        watch.delivered(now: 2_500)
        #expect(watch.next(now: 3_500) == nil, "a message pushes it back by 2 s")
        #expect(watch.next(now: 4_500) == .reconcile(reason: "start"))
        for second in 5...100 { watch.delivered(now: Int64(second) * 1000) }
        #expect(watch.next(now: 30_000) == .reconcile(reason: "start"), "a steady flow delays it at most 30 s")
    }

    @Test mutating func steadyStateMakesNoRequests() {
        steady()
        for minute in Int64(1)...120 {
            let now = minute * 60_000
            if minute % 5 == 0 {
                // The relay's repeat.
                watch.delivered(now: now)
                watch.relayStatus(relay: "r1", payload: online, now: now)
            }
            #expect(watch.next(now: now + 1) == nil)
        }
    }

    @Test mutating func aReconnectReconcilesButTheFirstRetainedUpDoesNot() {
        steady()
        #expect(watch.next(now: 10_000) == nil, "the retained '1' is the state as kept, not a reconnect")
        watch.bridgeNotification(down, retained: false, now: 20_000)
        #expect(watch.next(now: 25_000) == nil, "a link down is waited out: the cluster queues for us")
        watch.bridgeNotification(up, retained: false, now: 60_000)
        #expect(watch.next(now: 62_000) == nil)
        let action = watch.next(now: 63_000)
        #expect(action == .reconcile(reason: "the bridge reconnected"))
        watch.done(action!, succeeded: true, now: 63_000)
        #expect(watch.next(now: 64_000) == nil, "once")
    }

    /// mosquitto kept a "1" from before a reboot, and its bridge connects only after the agent
    /// started: the live "1" is a connect, even though the state did not change.
    @Test mutating func aLiveConnectAfterAStaleRetainedUpReconciles() {
        steady()
        watch.bridgeNotification(up, retained: false, now: 40_000)
        #expect(watch.next(now: 43_000) == .reconcile(reason: "the bridge reconnected"))
    }

    @Test mutating func aReconnectMayBeSkippedForTheNewestEventTheClusterHadThen() {
        watch.fleetState(newestEventID: 41)
        #expect(watch.skippableFor == nil, "a start always reads the API: the retained copy may be old")
        let start = watch.next(now: 3_000)!
        watch.done(start, succeeded: true, now: 3_000)
        watch.bridgeNotification(up, retained: false, now: 10_000)
        #expect(watch.skippableFor == nil, "after a connect, only the state delivered after it counts")
        watch.fleetState(newestEventID: 50, timestampMillis: 9_000)
        watch.fleetState(newestEventID: 51, timestampMillis: 9_500)
        #expect(
            watch.skippableFor?.map(\.id) == [50, 51], "the state delivered at the resubscription, and those after")
        #expect(watch.skippableFor?.map(\.timestampMillis) == [9_000, 9_500])
        watch.localBrokerReconnected(now: 20_000)
        watch.fleetState(newestEventID: 52)
        #expect(watch.skippableFor == nil, "the local broker's retained copy may be old")
    }

    @Test mutating func aStateWithoutAnEventOrTooManyStatesAreNotSkippable() {
        steady()
        watch.bridgeNotification(up, retained: false, now: 10_000)
        watch.fleetState(newestEventID: 8)
        watch.fleetState(newestEventID: nil)
        #expect(watch.skippableFor == nil, "a state that names no event proves nothing")
        watch.bridgeNotification(up, retained: false, now: 20_000)
        for id in 1...Int64(BridgeWatch.maxStatesSinceConnect) { watch.fleetState(newestEventID: id) }
        #expect(watch.skippableFor?.count == BridgeWatch.maxStatesSinceConnect)
        watch.fleetState(newestEventID: 100)
        #expect(watch.skippableFor == nil, "more states than it keeps: reconcile")
    }

    /// The local broker kept the agent's session: what was bridged while the agent was away came
    /// with the connect, so the start is skippable like a reconnect, for the state delivered after it.
    @Test func aStartWithTheSessionKeptMayBeSkipped() {
        var kept = BridgeWatch(quietLimit: .seconds(900), pollInterval: .seconds(60), now: 0, sessionKept: true)
        #expect(kept.skippableFor == nil, "not before the relay's state came")
        kept.fleetState(newestEventID: 41, timestampMillis: 1_000)
        #expect(kept.skippableFor?.map(\.id) == [41])
        #expect(kept.next(now: 3_000) == .reconcile(reason: "start"), "the agent decides, with its record")
        // A reconnect the bridge made while the agent was away (its queued live "1") comes before the
        // state the agent's subscription brings: that state is the one that counts.
        var reconnected = BridgeWatch(quietLimit: .seconds(900), pollInterval: .seconds(60), now: 0, sessionKept: true)
        reconnected.bridgeNotification(up, retained: false, now: 10)
        reconnected.fleetState(newestEventID: 42)
        #expect(reconnected.skippableFor?.map(\.id) == [42])
        #expect(reconnected.next(now: 3_010) == .reconcile(reason: "the bridge reconnected"))
    }

    @Test mutating func aFailedReconciliationIsNeverSkipped() {
        steady()
        watch.bridgeNotification(up, retained: false, now: 10_000)
        watch.fleetState(newestEventID: 8)
        #expect(watch.skippableFor?.map(\.id) == [8])
        watch.done(watch.next(now: 13_000) ?? .poll(reason: "none"), succeeded: false, now: 13_000)
        #expect(watch.skippableFor == nil, "a retry after a failure reads the API")
    }

    @Test mutating func aReconnectToTheLocalBrokerReconciles() {
        steady()
        watch.localBrokerReconnected(now: 50_000)
        #expect(watch.next(now: 52_000) == nil)
        #expect(watch.next(now: 53_000) == .reconcile(reason: "the local broker connection came back"))
    }

    @Test mutating func aQuietBridgeIsPolledUntilItBringsSomething() {
        steady()
        // The start reconciliation at 5 s; the relay's last status at 0.1 s.
        #expect(watch.next(now: 900_000) == nil)
        guard case .poll(let reason)? = watch.next(now: 900_101) else {
            Issue.record("expected polling")
            return
        }
        #expect(reason.hasPrefix("nothing bridged for"))
        watch.done(.poll(reason: reason), succeeded: true, now: 900_101)
        #expect(watch.next(now: 950_000) == nil)
        #expect(watch.next(now: 960_101) != nil, "every poll interval")
        watch.delivered(now: 970_000)
        watch.relayStatus(relay: "r1", payload: online, now: 970_000)
        #expect(watch.next(now: 970_000) == nil)
        guard case .reconcile(let ended)? = watch.next(now: 973_000) else {
            Issue.record("expected a reconciliation once the bridge speaks again")
            return
        }
        #expect(ended.hasPrefix("polling ended (nothing bridged for"))
    }

    @Test mutating func withNoRelayOnlineItPollsEveryIntervalAndReconcilesWhenOneIsBack() {
        steady()
        watch.relayStatus(relay: "r1", payload: offline, now: 40_000)
        #expect(watch.next(now: 40_000) == nil, "the start's reconciliation read the API 35 s ago")
        let poll = watch.next(now: 65_000)
        #expect(poll == .poll(reason: "no relay is online"), "one poll interval after it")
        watch.done(poll!, succeeded: true, now: 40_000)
        #expect(watch.next(now: 99_000) == nil)
        #expect(watch.next(now: 100_000) == .poll(reason: "no relay is online"), "every poll interval")
        watch.done(.poll(reason: ""), succeeded: false, now: 100_000)
        watch.relayStatus(relay: "r2", payload: online, now: 120_000)
        #expect(watch.next(now: 120_000) == nil)
        #expect(watch.next(now: 123_000) == .reconcile(reason: "polling ended (no relay is online)"))
    }

    /// The broker's retained `online` of a relay that went offline while the bridge was up: without
    /// its 5-minute repeat it counts as gone after the quiet limit.
    @Test mutating func aRelayNotHeardForTheQuietLimitIsNotOnline() {
        steady()
        #expect(watch.onlineRelays(now: 900_000) == ["r1"])
        watch.delivered(now: 890_000)  // an event: the bridge delivers, the relay is silent
        #expect(watch.next(now: 900_100) == nil)
        #expect(watch.onlineRelays(now: 900_101).isEmpty)
        #expect(watch.next(now: 900_101) == .poll(reason: "no relay is online"))
        watch.relayStatus(relay: "r1", payload: online, now: 950_000)
        #expect(watch.onlineRelays(now: 950_000) == ["r1"], "its repeat")
    }

    @Test mutating func noRelayStatusAtAllIsJudgedAfterAGrace() {
        watch.bridgeNotification(up, retained: true, now: 100)
        let start = watch.next(now: 3_100)
        watch.done(start!, succeeded: true, now: 3_100)
        #expect(watch.next(now: 29_000) == nil, "30 s for the retained statuses to arrive")
        #expect(watch.next(now: 30_000) == nil, "and a poll interval after the start's reconciliation")
        #expect(watch.next(now: 63_100) == .poll(reason: "no relay is online"))
    }

    @Test mutating func aBridgeDownLongerThanTheQuietLimitPolls() {
        steady()
        watch.bridgeNotification(down, retained: false, now: 10_000)
        #expect(watch.next(now: 909_000) == nil)
        guard case .poll(let reason)? = watch.next(now: 910_000) else {
            Issue.record("expected polling")
            return
        }
        #expect(reason.hasPrefix("the bridge has been down for"))
    }

    @Test mutating func noBridgeNotificationAtAllPollsAfterTheQuietLimit() {
        let start = watch.next(now: 3_000)
        watch.done(start!, succeeded: true, now: 3_000)
        watch.relayStatus(relay: "r1", payload: online, now: 100)
        #expect(watch.next(now: 899_000) == nil)
        guard case .poll(let reason)? = watch.next(now: 900_000) else {
            Issue.record("expected polling")
            return
        }
        #expect(reason.contains("no bridge notification"))
    }

    @Test mutating func aFailedReconciliationIsRetriedWithBackoff() {
        let start = watch.next(now: 3_000)!
        watch.done(start, succeeded: false, now: 3_000)
        #expect(watch.next(now: 4_000) == nil, "at least 2.5 s later")
        #expect(watch.next(now: 8_000) == .reconcile(reason: "start"), "at most 5 s later")
    }
}
