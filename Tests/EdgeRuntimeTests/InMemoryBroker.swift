import EdgeAgent
import EdgeCommon
import EdgeMQTT
import EdgeRuntime
import Synchronization

/// A broker for the session's unit tests: records what is published and acknowledged, lets a test
/// hold the acknowledgements of handed-over batches, and report reconnects.
final class InMemoryBroker: SessionBroker {
    struct Record {
        /// Every message published or handed over, in order (`publish` and `handOver` alike).
        var messages: [MQTTMessage] = []
        /// Event ids of each batch handed over, and of each whose acknowledgement was awaited.
        var handedOver: [[Int64]] = []
        var acknowledged: [[Int64]] = []
        var connects = 0
        var disconnects = 0
        /// The filters of each `subscribeAtStart`, and how many connects had happened before it.
        var subscriptionsAtStart: [(filters: [String], connectsBefore: Int)] = []
    }

    let record = Mutex(Record())
    /// While true, the acknowledgements of handed-over batches wait.
    let holdAcknowledgements = Mutex(false)
    private let sinks = Mutex<[AsyncStream<MQTTConnectionEvent>.Continuation]>([])
    let will: MQTTMessage

    init(will: MQTTMessage) {
        self.will = will
    }

    var snapshot: Record { record.withLock { $0 } }

    /// Payloads published on topics ending in `suffix`, in order.
    func texts(onTopicEnding suffix: String) -> [String] {
        snapshot.messages.filter { $0.topic.hasSuffix(suffix) }.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    func connect(timeout: Duration) async throws {
        record.withLock { $0.connects += 1 }
    }

    func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTConnectionEvent.self)
        sinks.withLock { $0.append(continuation) }
        return stream
    }

    /// What libmosquitto reports after an outage: the connection lost, then back.
    func simulateReconnect() {
        for sink in sinks.withLock({ $0 }) {
            sink.yield(.disconnected(reason: "test: connection lost"))
            sink.yield(.connected(protocolVersion: 5, sessionPresent: true))
        }
    }

    func disconnect(timeout: Duration) async {
        record.withLock { $0.disconnects += 1 }
        for sink in sinks.withLock({ $0 }) { sink.finish() }
    }

    func publish(_ messages: [MQTTMessage]) async throws {
        record.withLock { $0.messages += messages }
    }

    /// Recorded; nothing is routed back (bridge mode's messages are tested on a real mosquitto).
    func subscribeAtStart(_ filters: [String], qos: Int) throws -> AsyncStream<MQTTMessage> {
        record.withLock { $0.subscriptionsAtStart.append((filters, $0.connects)) }
        return AsyncStream { _ in }
    }

    var sessionPresentAtStart: Bool? { false }

    func handOver(_ messages: [MQTTMessage]) async throws -> PublishAcknowledgement {
        let ids = messages.compactMap(\.eventID)
        record.withLock {
            $0.messages += messages
            $0.handedOver.append(ids)
        }
        return PublishAcknowledgement { [self] in
            while holdAcknowledgements.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            record.withLock { $0.acknowledged.append(ids) }
        }
    }
}

/// Waits for `condition`, up to a deadline far above what it needs (the machine may be loaded).
func eventually(_ what: String, within limit: Duration = .seconds(60), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOutWaiting(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

struct TimedOutWaiting: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}
