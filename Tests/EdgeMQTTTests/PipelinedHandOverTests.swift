import EdgeCommon
import Foundation
import TestSupport
import Testing

@testable import EdgeMQTT

/// `handOver` returns without waiting for PUBACKs, so the next batch follows at once;
/// `acknowledgement(of:)` waits for one batch's. In the serialized suite: each test starts a broker.
extension MQTTConnectionTests {
    /// With the default window (no waiting inside `handOver`) and a small one (`handOver` waits for its own
    /// batch's acknowledgements while the previous batch's still arrive).
    @Test(.timeLimit(.minutes(1)), arguments: [1000, 50])
    func batchesHandedOverBackToBackArriveAllInOrder(maxInflight: Int) async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await connected(settings(broker))
        let stream = try await subscriber.subscribe("pipelined/events", qos: 1)
        var publisherSettings = settings(broker)
        publisherSettings.maxInflight = maxInflight
        let publisher = try await connected(publisherSettings)
        let batches = (0..<3).map { batch in
            (0..<500).map { MQTTMessage(topic: "pipelined/events", text: "\(batch * 500 + $0)", qos: 1) }
        }
        var receipts: [PublishReceipt] = []
        for batch in batches { receipts.append(try await publisher.handOver(batch)) }
        for receipt in receipts { try await publisher.acknowledgement(of: receipt) }
        let received = await collect(stream, count: 1500, timeout: .seconds(20))
        #expect(received.count == 1500)
        #expect(received.compactMap { Int(String(decoding: $0.payload, as: UTF8.self)) } == Array(0..<1500))
        await publisher.stop(timeout: .seconds(2))
        await subscriber.stop(timeout: .seconds(2))
    }

    /// The point of `handOver`: it returns while the broker has acknowledged nothing (here: cannot, it is
    /// frozen), and only `acknowledgement(of:)` waits, until the broker answers.
    @Test(.timeLimit(.minutes(1)))
    func handOverReturnsBeforeTheBrokerAcknowledges() async throws {
        let broker = try MosquittoBroker()
        let publisher = try await connected(settings(broker))
        broker.freeze(true)
        let receipt = try await publisher.handOver(
            (0..<10).map { MQTTMessage(topic: "frozen/events", text: "\($0)", qos: 1) })
        #expect(publisher.core.state.withLock { $0.batches[receipt.id]?.outstanding } == 10, "nothing acknowledged yet")
        let waiting = Task { await ending(of: receipt, on: publisher) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(publisher.core.state.withLock { $0.batches[receipt.id]?.outstanding } == 10, "still waiting")
        broker.freeze(false)
        #expect(await waiting.value == .returned)
        await publisher.stop(timeout: .seconds(2))
    }

    /// `stop` ends every batch not yet awaited: its acknowledgement throws `.stopped` at once, also for a batch
    /// the broker fully acknowledged (the caller counts it as not delivered and publishes it again: never lost).
    @Test(.timeLimit(.minutes(1)))
    func acknowledgementsNotAwaitedBeforeStopThrowStoppedInsteadOfHanging() async throws {
        let broker = try MosquittoBroker()
        let publisher = try await connected(settings(broker))
        let delivered = try await publisher.handOver([MQTTMessage(topic: "stop/delivered", text: "1", qos: 1)])
        while publisher.core.state.withLock({ $0.batches[delivered.id]?.outstanding }) != 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        broker.kill()
        try await Task.sleep(for: .milliseconds(200))
        // Queued in libmosquitto, never acknowledged: one is already awaited when the stop comes, one is not.
        let awaited = try await publisher.handOver([MQTTMessage(topic: "stop/stranded", text: "2", qos: 1)])
        let notAwaited = try await publisher.handOver([MQTTMessage(topic: "stop/stranded", text: "3", qos: 1)])
        let waiting = Task { await ending(of: awaited, on: publisher) }
        try await Task.sleep(for: .milliseconds(200))
        await publisher.stop(timeout: .milliseconds(200))
        let stopped = ContinuousClock.now
        #expect(await waiting.value == .stopped)
        #expect(await ending(of: notAwaited, on: publisher) == .stopped)
        #expect(await ending(of: delivered, on: publisher) == .stopped)
        #expect(ContinuousClock.now - stopped < .seconds(10), "nothing waits once stopped")
        await #expect(throws: MQTTError.self) {
            _ = try await publisher.handOver([MQTTMessage(topic: "stop/late", text: "4", qos: 1)])
        }
    }
}

enum AcknowledgementEnding: Equatable {
    case returned, stopped
    case other(String)
}

func ending(of receipt: PublishReceipt, on connection: MQTTConnection) async -> AcknowledgementEnding {
    do throws(MQTTError) {
        try await connection.acknowledgement(of: receipt)
        return .returned
    } catch .stopped {
        return .stopped
    } catch {
        return .other("\(error)")
    }
}
