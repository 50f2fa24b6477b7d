import EdgeCommon
import EdgeMQTT
import EdgeRelay

/// A cluster in memory for unit tests: records what was acknowledged; can be told to fail or to
/// hold acknowledgements (to test the webhook's timeout).
final class InMemoryCluster: RelayCluster {
    struct Store {
        var published: [MQTTMessage] = []
        var failing: MQTTError?
        var holdAcks = false
        var subscribers: [(filter: String, continuation: AsyncStream<MQTTMessage>.Continuation)] = []
    }

    let store = Locked(Store())

    var isConnected: Bool { store.withLock { $0.failing == nil } }

    var published: [MQTTMessage] { store.withLock { $0.published } }

    func publish(_ messages: [MQTTMessage]) async throws(MQTTError) {
        while store.withLock({ $0.holdAcks }) {
            do { try await Task.sleep(for: .milliseconds(10)) } catch { throw .cancelled }
        }
        let subscribers = try store.withLock { store throws(MQTTError) in
            if let failing = store.failing { throw failing }
            store.published += messages
            return store.subscribers
        }
        for message in messages {
            for subscriber in subscribers where Self.matches(subscriber.filter, message.topic) {
                subscriber.continuation.yield(message)
            }
        }
    }

    func subscribe(_ filter: String, qos: Int) async throws(MQTTError) -> AsyncStream<MQTTMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTMessage.self)
        let retained = store.withLock { store in
            store.subscribers.append((filter, continuation))
            var last: [String: MQTTMessage] = [:]
            for message in store.published where message.retain { last[message.topic] = message }
            return last.values.filter { Self.matches(filter, $0.topic) }
        }
        for message in retained { continuation.yield(message) }
        return stream
    }

    func finish() {
        store.withLock { $0.subscribers.forEach { $0.continuation.finish() } }
    }

    /// MQTT filter matching with `+` and `#`.
    static func matches(_ filter: String, _ topic: String) -> Bool {
        let f = filter.split(separator: "/", omittingEmptySubsequences: false)
        let t = topic.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in f.enumerated() {
            if level == "#" { return true }
            guard index < t.count else { return false }
            if level != "+" && level != t[index] { return false }
        }
        return f.count == t.count
    }
}
