import EdgeCommon
import Logging

extension MQTTFailoverConnection {
    /// Publishes and returns when a host acknowledged it (QoS 1: PUBACK). While no host is connected this waits,
    /// as `MQTTConnection.publish` does; on failover the message is re-sent on the next host.
    public func publish(_ message: MQTTMessage) async throws(MQTTError) {
        try await publish([message])
    }

    /// Publishes many, pipelined (`MQTTConnection.publish`), and returns when one host acknowledged all of them.
    /// On failover the whole batch is re-sent on the next host (see the type: duplicates, order).
    public func publish(_ messages: [MQTTMessage]) async throws(MQTTError) {
        let receipt = try await handOver(messages)
        try await acknowledgement(of: receipt)
    }

    /// Hands the messages to the current host's connection (`MQTTConnection.handOver`); `acknowledgement(of:)`
    /// waits for their PUBACKs and re-sends them if the host is given up first. The receipt keeps the messages
    /// until then. Every receipt must be awaited with `acknowledgement(of:)`.
    public func handOver(_ messages: [MQTTMessage]) async throws(MQTTError) -> FailoverPublishReceipt {
        try await handOver(messages, replacing: nil)
    }

    /// `handOver` on the first usable link that is not `replaced` (or is it, connected again).
    private func handOver(_ messages: [MQTTMessage], replacing failed: Link?) async throws(MQTTError)
        -> FailoverPublishReceipt
    {
        var replaced = failed
        while true {
            let link = try await usableLink(replacing: replaced)
            do throws(MQTTError) {
                let inner = try await link.connection.handOver(messages)
                return FailoverPublishReceipt(messages: messages, link: link, inner: inner)
            } catch {
                guard canRetry(error, on: link) else { throw error }
                replaced = link
            }
        }
    }

    /// Returns when one host acknowledged every message of the receipt; re-sends them on the next host when the
    /// one they were handed to was given up before (duplicates possible, see the type).
    public func acknowledgement(of receipt: FailoverPublishReceipt) async throws(MQTTError) {
        var current = receipt
        while true {
            do throws(MQTTError) {
                try await current.link.connection.acknowledgement(of: current.inner)
                return
            } catch {
                guard canRetry(error, on: current.link) else { throw error }
            }
            logger.notice(
                "MQTT re-sending a batch not fully acknowledged before the failover",
                metadata: ["messages": "\(receipt.messages.count)", "from": "\(describe(current.link.hostIndex))"])
            current = try await handOver(receipt.messages, replacing: current.link)
        }
    }

    /// Whether a failed publish on `link` should be tried again on the next link: it ended because the link was
    /// given up (`.stopped` from a replaced connection) or was down for a QoS 0 message (`.notConnected`), and
    /// this connection is not stopping.
    func canRetry(_ error: MQTTError, on link: Link) -> Bool {
        switch error {
        case .stopped, .notConnected:
            return state.withLock { s in s.phase == .running }
        default:
            return false
        }
    }

    /// The current link, waiting while a failover runs. With `replacing`, a link that replaced it or, if it is
    /// still the current one, once it is connected again.
    func usableLink(replacing failed: Link? = nil) async throws(MQTTError) -> Link {
        while true {
            let (phase, link) = state.withLock { s in (s.phase, s.link) }
            switch phase {
            case .idle, .starting, .stopped: throw .stopped
            case .stopping:
                // Publishes on the current link may still finish; nothing waits for a new one.
                if let link, link.generation != failed?.generation { return link }
                throw .stopped
            case .running:
                if let link, link.generation != failed?.generation || link.connection.isConnected { return link }
            }
            if Task.isCancelled { throw .cancelled }
            // Polling (20 ms) keeps this simple; a failover takes seconds.
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Messages handed over by `MQTTFailoverConnection.handOver`, awaiting acknowledgement (kept for a re-send).
public struct FailoverPublishReceipt: Sendable {
    let messages: [MQTTMessage]
    let link: MQTTFailoverConnection.Link
    let inner: PublishReceipt
}

// MARK: - Subscribe

extension MQTTFailoverConnection {
    /// Subscribes on the current host and returns the matching messages once it granted the subscription; the
    /// subscription is made again on every host failed over to (see the type about queued messages). For
    /// diagnostics and tests: the stream buffers without limit and ends at `stop`.
    public func subscribe(_ filter: String, qos: Int) async throws(MQTTError) -> AsyncStream<MQTTMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTMessage.self, bufferingPolicy: .unbounded)
        let id = try state.withLock { s throws(MQTTError) -> UInt64 in
            guard s.phase == .running else { throw .stopped }
            let id = s.makeID()
            s.subscriptions[id] = Subscription(filter: filter, qos: qos, continuation: continuation)
            return id
        }
        continuation.onTermination = { [state] _ in
            state.withLock { $0.subscriptions.removeValue(forKey: id) }?.pump?.cancel()
        }
        var replaced: Link?
        while true {
            do throws(MQTTError) {
                let link = try await usableLink(replacing: replaced)
                do throws(MQTTError) {
                    let messages = try await link.connection.subscribe(filter, qos: qos)
                    forward(messages, to: id, from: link)
                    return stream
                } catch {
                    guard canRetry(error, on: link) else { throw error }
                    replaced = link
                }
            } catch {
                state.withLock { _ = $0.subscriptions.removeValue(forKey: id) }
                continuation.finish()
                throw error
            }
        }
    }

    /// Subscribes again on a new link (after a failover), retrying with backoff while the link is current: right
    /// after a node died, NATS refused SUBSCRIBEs on the survivors (SUBACK 0x80) until JetStream had new leaders.
    func renew(_ id: UInt64, filter: String, qos: Int, on link: Link) async {
        var pause = settings.reconnectDelay.min
        while true {
            do throws(MQTTError) {
                let messages = try await link.connection.subscribe(filter, qos: qos)
                forward(messages, to: id, from: link)
                return
            } catch {
                logger.warning(
                    "MQTT could not renew a subscription after the failover; retrying",
                    metadata: ["filter": "\(filter)", "broker": "\(describe(link.hostIndex))", "error": "\(error)"])
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, settings.reconnectDelay.max)
            let current = state.withLock { s in
                s.phase == .running && s.link?.generation == link.generation && s.subscriptions[id] != nil
            }
            if !current { return }
        }
    }

    /// Feeds the link's messages into subscription `id`'s stream, unless a newer link's already are.
    private func forward(_ messages: AsyncStream<MQTTMessage>, to id: UInt64, from link: Link) {
        state.withLock { s in
            guard var subscription = s.subscriptions[id], subscription.generation < link.generation else { return }
            let continuation = subscription.continuation
            subscription.pump?.cancel()
            subscription.generation = link.generation
            subscription.pump = Task {
                for await message in messages { continuation.yield(message) }
            }
            s.subscriptions[id] = subscription
        }
    }
}

extension MQTTFailoverConnection {
    /// Test hook: closes the current connection's socket without DISCONNECT (`MQTTConnection`'s hook).
    func _abortSocketForTesting() {
        state.withLock { $0.link }?.connection._abortSocketForTesting()
    }
}
