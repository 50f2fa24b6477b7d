import EdgeCommon
import EmnifyAPI
import Logging

/// Bridge mode (`[agent] events = "bridge"`): the events come from the fleet cluster through the
/// local broker's bridge. The agent records each one in its feed cursors, as if it had published
/// it, so that a reconciliation (`reconcile`, the ordinary poll reading each feed's whole window
/// in one query) publishes only what the bridge did not bring. `BridgeLoop` decides when.
extension Agent {
    /// An event the local broker delivered on `<prefix>/<iccid>/event/+`: the bridge's, or one this
    /// agent published itself (already recorded: nothing changes, and it is not counted as bridged).
    public func observeBridged(_ message: MQTTMessage) {
        guard let event = try? EmnifyEvent(json: message.payload) else {
            logger.warning(
                "a bridged message on an event topic is not an emnify event; ignored",
                metadata: ["topic": "\(message.topic)", "bytes": "\(message.payload.count)"])
            return
        }
        guard state.simID != nil else {
            // Recorded once the SIM is resolved; bounded, since a start without the API can be long.
            if heldBridged.count < FeedCursor.maxRecordedIDs { heldBridged.append(event) }
            return
        }
        record(event)
    }

    /// The events held until the SIM was resolved, once it is: the feeds' cursors are made as the
    /// first read would make them, so that this read does not publish them again.
    func recordHeldBridged() async {
        guard let simID = state.simID, !heldBridged.isEmpty else { return }
        let windowStart = await api.apiTimeMilliseconds() - settings.backfill.wholeMilliseconds
        for feed in [state.endpointID.map { EventFeed.endpoint($0) }, .sim(simID)].compactMap({ $0 }) {
            if state.cursors[Self.key(feed)] == nil {
                state.cursors[Self.key(feed)] = FeedCursor(windowStart: windowStart)
            }
        }
        let held = heldBridged
        heldBridged = []
        for event in held { record(event) }
    }

    /// In the endpoint feed's cursor when it names our endpoint, as the poll attributes it, else in the SIM's.
    private func record(_ event: EmnifyEvent) {
        let key: String
        if let endpointID = state.endpointID, event.endpointID == endpointID {
            key = Self.key(.endpoint(endpointID))
        } else if let simID = state.simID {
            key = Self.key(.sim(simID))
        } else {
            return
        }
        let millis = event.timestamp.millisecondsSinceEpoch
        guard var cursor = state.cursors[key] else {
            // No read of this feed yet: recorded when the first one starts (`recordHeldBridged`).
            heldBridged.append(event)
            return
        }
        // Before the window: nothing new. The agent's own publications come back on its subscription,
        // and those older than the window were forgotten by the read that published them.
        guard millis >= cursor.windowStart, cursor.published[event.id] == nil else { return }
        cursor.markDelivered(id: event.id, timestampMillis: millis)
        state.cursors[key] = cursor
        state.connectivity.applyIfNewer(event)
        bridgedUnsaved += 1
        bridgeHealth?.eventsBridged += 1
    }

    /// Reads both feeds once, each in one query over its whole window, and publishes only what the
    /// bridge has not brought.
    public func reconcile(reason: String) async -> PollOutcome {
        logger.info("reconciling from the API", metadata: ["reason": "\(reason)"])
        readsWholeWindow = true
        defer { readsWholeWindow = false }
        let outcome = await pollOnce()
        if !outcome.failed {
            bridgeHealth?.reconciliations += 1
            bridgeHealth?.lastReconciliation = reason
            bridgeHealth?.lastReconciliationPublished = outcome.publishedCount
        }
        // The poll published the health before these counts: the next tick publishes them.
        bridgeHealthUnpublished = true
        return outcome
    }

    /// Whether the reconciliation can be skipped: this agent has recorded every event in `named`, the
    /// newest event the cluster had for the SIM when the bridge resubscribed and those of the relay's
    /// states since (`BridgeWatch.skippableFor`), or such an event lies before every feed's window:
    /// everything since the window starts was read, and the cluster has nothing newer.
    public func skipsReconciliation(_ reason: String, named: [(id: Int64, timestampMillis: Int64?)]) -> Bool {
        let missing = named.first { event in
            let recorded = state.cursors.values.contains { $0.published[event.id] != nil }
            let handled = event.timestampMillis.map { time in
                !state.cursors.isEmpty && state.cursors.values.allSatisfy { time < $0.windowStart }
            }
            return !(recorded || handled == true)
        }
        if let missing {
            logger.info(
                "an event the cluster has for this SIM did not come through the bridge: reconciling",
                metadata: ["reason": "\(reason)", "event": "\(missing.id)"])
            return false
        }
        logger.info(
            "no reconciliation needed: the bridge brought the newest events the cluster has",
            metadata: ["reason": "\(reason)", "events": "\(named.map(\.id))"])
        bridgeHealth?.reconciliationsSkipped += 1
        bridgeHealthUnpublished = true
        return true
    }

    /// One poll while the bridge cannot bring events (`BridgeWatch.Action.poll`).
    public func fallbackPoll() async -> PollOutcome {
        let outcome = await pollOnce()
        bridgeHealth?.fallbackPolls += 1
        bridgeHealthUnpublished = true
        return outcome
    }

    /// Called about once a second by the loop: re-reads the modem identity when due (a SIM swap
    /// ends the loop), saves what was bridged, and publishes the retained state and health when
    /// they changed. Returns why the loop must end, if it must.
    public func bridgeTick(_ watch: BridgeWatch, now: Int64) async -> AgentStop? {
        var health = bridgeHealth ?? BridgeHealth()
        health.link = watch.link.rawValue
        health.relaysOnline = watch.onlineRelays(now: now)
        health.fallback = watch.fallback
        if health.summary != bridgeHealth?.summary { bridgeHealthUnpublished = true }
        bridgeHealth = health
        do {
            try await refreshIdentity()
        } catch let stop as AgentStop {
            stopReason = stop
            return stop
        } catch {
            logger.warning("cannot read the modem identity", metadata: ["error": "\(error)"])
        }
        if bridgedUnsaved > 0 {
            bridgedUnsaved = 0
            saveState()
            bridgeHealthUnpublished = true
        }
        guard bridgeHealthUnpublished, let identity else { return nil }
        do {
            try await publishStatusTopics(identity)
            bridgeHealthUnpublished = false
        } catch {
            // Tried again on the next tick.
            logger.debug("state and health not published", metadata: ["error": "\(error)"])
        }
        return nil
    }

    /// Whether a loop driving the agent must end: a stop was requested, or the agent stopped by itself.
    public var stopRequestedOrDone: Bool { stopRequested || stopReason != nil }

    /// Starts the bridge's health record (the health topic then carries it).
    public func enterBridgeMode() {
        if bridgeHealth == nil { bridgeHealth = BridgeHealth() }
    }
}

extension PollOutcome {
    var publishedCount: Int {
        if case .published(let count) = self { return count }
        return 0
    }

    public var failed: Bool {
        switch self {
        case .failed, .waitingForSIM: return true
        case .published, .idle: return false
        }
    }
}
