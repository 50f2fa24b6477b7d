import CMosquitto
import EdgeCommon
import Glibc
import Synchronization

extension MQTTConnection {
    /// Publishes and returns when the broker acknowledged it (QoS 1: PUBACK; QoS 0: written to the socket).
    /// While the connection is down a QoS 1 message waits in libmosquitto and is sent after the reconnect; this call
    /// waits with it. Cancelling the task ends the wait with `.cancelled` (the message may still be delivered).
    /// QoS 0 while disconnected throws `.notConnected`.
    public func publish(_ message: MQTTMessage) async throws(MQTTError) {
        try await publish(CollectionOfOne(message))
    }

    /// Publishes many, pipelined: messages are handed to libmosquitto while acknowledgements come back, with at
    /// most twice `maxInflight` awaiting acknowledgement (memory stays bounded for backfills of 100,000 events);
    /// returns when all are acknowledged. Order is kept (libmosquitto sends in order). On error or cancellation,
    /// messages before the failing one may have been delivered.
    public func publish(_ messages: [MQTTMessage]) async throws(MQTTError) {
        try await publish(messages[...])
    }

    func publish(_ messages: some Collection<MQTTMessage>) async throws(MQTTError) {
        let batch = try await handOver(messages)
        try await acknowledgement(of: batch)
    }

    /// Hands the messages to libmosquitto (waiting only while twice `maxInflight` await acknowledgement) and
    /// returns without waiting for the rest: `acknowledgement(of:)` does. Publishing the next page while this
    /// one's acknowledgements arrive keeps the broker busy between pages. Every batch handed over must be
    /// awaited with `acknowledgement(of:)`, which also forgets it.
    public func handOver(_ messages: [MQTTMessage]) async throws(MQTTError) -> PublishReceipt {
        try await handOver(messages[...])
    }

    func handOver(_ messages: some Collection<MQTTMessage>) async throws(MQTTError) -> PublishReceipt {
        for message in messages {
            if let problem = TopicValidation.problem(inPublishTopic: message.topic) {
                throw .publishFailed(topic: message.topic, detail: problem)
            }
            if !(0...2).contains(message.qos) {
                throw .publishFailed(topic: message.topic, detail: "QoS \(message.qos) is not 0, 1 or 2")
            }
        }
        let core = self.core
        let batchID = try core.state.withLock { s throws(MQTTError) -> UInt64 in
            guard s.phase == .running || s.phase == .stopping else { throw .stopped }
            let id = s.makeID()
            s.batches[id] = MQTTClientCore.PublishBatch()
            return id
        }
        // Forgotten unless handed over whole: only `acknowledgement(of:)` forgets a receipt's batch.
        var handedOver = false
        defer { if !handedOver { core.state.withLock { _ = $0.batches.removeValue(forKey: batchID) } } }
        let window = settings.maxInflight * 2
        for message in messages {
            if Task.isCancelled { throw .cancelled }
            let version = core.state.withLock { $0.configuredVersion }
            var mid: Int32 = 0
            let rc = handle.publish(message, protocolVersion: version, mid: &mid)
            let queued =
                rc == MOSQ_ERR_SUCCESS.rawValue
                || (message.qos > 0
                    && [MOSQ_ERR_NO_CONN.rawValue, MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_ERRNO.rawValue].contains(rc))
            guard queued else {
                if rc == MOSQ_ERR_NO_CONN.rawValue { throw .notConnected }
                throw .publishFailed(topic: message.topic, detail: MosquittoText.error(rc))
            }
            let outstanding = try core.state.withLock { s throws(MQTTError) -> Int in
                guard var batch = s.batches[batchID] else { throw .stopped }
                defer { s.batches[batchID] = batch }
                if case .acked(let reason)? = s.acks.removeValue(forKey: mid) {
                    // Acknowledged on the network thread before we got here.
                    batch.outstanding += 1
                    _ = MQTTClientCore.account(ack: reason, topic: message.topic, in: &batch)
                } else {
                    s.acks[mid] = .waiting(batch: batchID, topic: message.topic)
                    batch.outstanding += 1
                }
                if let failure = batch.failure { throw failure }
                return batch.outstanding
            }
            if outstanding >= window {
                try await waitForAcks(batchID, atMost: settings.maxInflight).get()
            }
        }
        handedOver = true
        return PublishReceipt(id: batchID)
    }

    /// Returns when every message of the batch is acknowledged (or throws what went wrong), and forgets it.
    public func acknowledgement(of batch: PublishReceipt) async throws(MQTTError) {
        defer { core.state.withLock { _ = $0.batches.removeValue(forKey: batch.id) } }
        try await waitForAcks(batch.id, atMost: 0).get()
    }

    private func waitForAcks(_ batchID: UInt64, atMost limit: Int) async -> Result<Void, MQTTError> {
        let core = self.core
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, MQTTError>, Never>) in
                let immediate = core.state.withLock { s -> Result<Void, MQTTError>? in
                    guard var batch = s.batches[batchID] else { return .failure(.stopped) }
                    if let failure = batch.failure { return .failure(failure) }
                    if batch.outstanding <= limit { return .success(()) }
                    if Task.isCancelled { return .failure(.cancelled) }
                    batch.waiter = continuation
                    batch.resumeAtMost = limit
                    s.batches[batchID] = batch
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = core.state.withLock { s in
                defer { s.batches[batchID]?.waiter = nil }
                return s.batches[batchID]?.waiter
            }
            waiter?.resume(returning: .failure(.cancelled))
        }
    }
}

/// Messages handed to libmosquitto by `handOver`, awaiting acknowledgement.
public struct PublishReceipt: Sendable {
    let id: UInt64
}

extension MQTTConnection {
    /// Subscribes and returns the messages matching `filter` once the broker granted the subscription (SUBACK).
    /// The subscription is renewed after a reconnect without a session. For diagnostics and tests: the stream
    /// buffers without limit; ending the iteration stops delivery locally (no UNSUBSCRIBE is sent).
    public func subscribe(_ filter: String, qos: Int) async throws(MQTTError) -> AsyncStream<MQTTMessage> {
        try await subscribe([filter], qos: qos)
    }

    /// Subscribes to every filter and returns their messages in one stream, in the order the broker sent
    /// them (separate streams would lose the order between filters: a bridge's notification before the
    /// retained messages of its resubscription). Overlapping filters bring what the broker sends:
    /// mosquitto sends a message once per matching subscription.
    public func subscribe(_ filters: [String], qos: Int) async throws(MQTTError) -> AsyncStream<MQTTMessage> {
        // Registered before the SUBSCRIBEs, so that the retained messages they bring are not missed.
        let (stream, continuation) = try register(filters, qos: qos, atStart: false)
        do throws(MQTTError) {
            for filter in filters { try await subscribeOne(filter, qos: qos) }
        } catch {
            continuation.finish()
            throw error
        }
        return stream
    }

    /// Registers a subscription before `start`, so that what a kept session delivers right after the CONNACK
    /// (messages queued while this client was away) reaches the stream: `subscribe` after `start` would
    /// register too late for them. The SUBSCRIBEs go out at the first connect (also when the session is present:
    /// its subscriptions may be an older version's) and after every reconnect without a session; a refusal is
    /// logged, not thrown. `sessionPresentAtStart` tells whether the broker kept the session.
    public func subscribeAtStart(_ filters: [String], qos: Int) throws(MQTTError) -> AsyncStream<MQTTMessage> {
        try register(filters, qos: qos, atStart: true).stream
    }

    /// Checks the filters and registers their stream: while running (`subscribe` then sends the SUBSCRIBEs),
    /// or `atStart`, before `start` (the network thread sends them at connect).
    private func register(
        _ filters: [String], qos: Int, atStart: Bool
    ) throws(MQTTError) -> (stream: AsyncStream<MQTTMessage>, continuation: AsyncStream<MQTTMessage>.Continuation) {
        for filter in filters where mosquitto_sub_topic_check(filter) != MOSQ_ERR_SUCCESS.rawValue {
            throw .subscribeFailed(filter: filter, detail: "not a valid topic filter")
        }
        let core = self.core
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTMessage.self, bufferingPolicy: .unbounded)
        let id = try core.state.withLock { s throws(MQTTError) -> UInt64 in
            if atStart {
                guard s.phase == .idle else {
                    throw .subscribeFailed(
                        filter: filters.joined(separator: ", "), detail: "the connection has started")
                }
            } else {
                guard s.phase == .running else { throw .stopped }
            }
            let id = s.makeID()
            s.subscriptions[id] = .init(
                filters: filters, qos: qos, continuation: continuation, subscribeAtConnect: atStart)
            return id
        }
        continuation.onTermination = { _ in core.state.withLock { _ = $0.subscriptions.removeValue(forKey: id) } }
        return (stream, continuation)
    }

    /// The first CONNACK's session-present flag (nil before it): whether the broker had kept this client's
    /// session (its subscriptions, and what it queued for them) from an earlier connection.
    public var sessionPresentAtStart: Bool? { core.state.withLock { $0.sessionPresentAtStart } }

    private func subscribeOne(_ filter: String, qos: Int) async throws(MQTTError) {
        let core = self.core
        var mid: Int32 = 0
        let rc = handle.subscribe(filter, qos: qos, mid: &mid)
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            throw rc == MOSQ_ERR_NO_CONN.rawValue
                ? .notConnected : .subscribeFailed(filter: filter, detail: MosquittoText.error(rc))
        }
        let granted = await withCheckedContinuation { (waiter: CheckedContinuation<Result<[Int], MQTTError>, Never>) in
            let early = core.state.withLock { s -> [Int]? in
                if case .acked(let granted)? = s.subacks.removeValue(forKey: mid) { return granted }
                s.subacks[mid] = .waiting(waiter)
                return nil
            }
            if let early { waiter.resume(returning: .success(early)) }
        }
        let codes = try granted.get()
        if let code = codes.first, code >= 128 {
            throw MQTTError.subscribeFailed(
                filter: filter, detail: "the broker refused it: \(MosquittoText.reason(code)) (\(code))")
        }
    }
}

extension MQTTConnection {
    /// Test hook: closes the socket under libmosquitto without DISCONNECT, as a crash or a cut cable would; the
    /// broker then publishes the will. The network thread notices and reconnects.
    func _abortSocketForTesting() {
        let fd = handle.socket()
        if fd >= 0 { _ = shutdown(fd, Int32(SHUT_RDWR)) }
    }
}
