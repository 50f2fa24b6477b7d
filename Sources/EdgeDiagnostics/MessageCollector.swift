import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EmnifyAPI
import ModemIdentity

/// Collects the messages of a subscription until a condition holds or time runs out.
enum MessageCollector {
    /// The messages received before `done` returned true or `timeout` passed, whichever came first.
    static func collect(
        _ stream: AsyncStream<MQTTMessage>, timeout: Duration, until done: @escaping @Sendable ([MQTTMessage]) -> Bool
    ) async -> [MQTTMessage] {
        let received = Locked<[MQTTMessage]>([])
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in stream {
                    let finished = received.withLock { all -> Bool in
                        all.append(message)
                        return done(all)
                    }
                    if finished { return }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return received.withLock { $0 }
    }
}
