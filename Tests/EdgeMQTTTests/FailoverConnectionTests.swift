import EdgeCommon
import EdgeMQTT
import Foundation
import TestSupport
import Testing

@testable import EdgeMQTT

/// `MQTTFailoverConnection` against a real three-node NATS JetStream cluster (its MQTT listeners).
extension RealNATSClusters {
    @Suite("MQTTFailoverConnection against a real NATS cluster")
    struct FailoverConnectionTests {
        @Test(.timeLimit(.minutes(5)))
        func connectsToTheFirstHostAndASubscriberOnAnotherNodeReceives() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            let subscriber = try await natsConnected(natsSettings(cluster, node: 2))
            let stream = try await subscriber.subscribe("fleet/89000000000000000002/events", qos: 1)
            let relay = try failover(cluster)
            try await relay.start(timeout: .seconds(60))
            #expect(relay.currentHost?.port == cluster.mqttPort(0))
            #expect(relay.isConnected)
            #expect(relay.negotiatedProtocolVersion == 4)
            try await relay.publish([
                MQTTMessage(topic: "fleet/89000000000000000002/events", text: "{\"id\":1}", qos: 1)
            ])
            let received = await collect(stream, count: 1, timeout: .seconds(30))
            #expect(received.map { String(decoding: $0.payload, as: UTF8.self) } == ["{\"id\":1}"], "\(cluster.logs)")
            // For the report, not asserted: how fast PUBACKs come from a healthy cluster.
            let paced = try failover(cluster, maxInflight: 10)
            try await paced.start(timeout: .seconds(60))
            let began = ContinuousClock.now
            try await paced.publish((1...2_000).map { MQTTMessage(topic: "fleet/pace", text: "\($0)", qos: 1) })
            print("NATS: 2,000 QoS 1 publishes with 10 in flight acknowledged in \(ContinuousClock.now - began)")
            await paced.stop(timeout: .seconds(5))
            await relay.stop(timeout: .seconds(5))
            await subscriber.stop(timeout: .seconds(5))
            #expect(!relay.isConnected)
        }

        @Test(.timeLimit(.minutes(5)))
        func startSkipsAHostThatIsDown() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            cluster.kill(0)
            let relay = try failover(cluster)
            try await relay.start(timeout: .seconds(90))
            #expect(relay.currentHost != nil, "connected to no host")
            #expect(relay.currentHost?.port != cluster.mqttPort(0))
            try await relay.publish(MQTTMessage(topic: "fleet/skip", text: "up", qos: 1))
            await relay.stop(timeout: .seconds(5))
        }

        /// SIGKILL of the node holding the relay's connection while a batch of 2,000 QoS 1 messages is in flight:
        /// the call still returns, after the failover, and a persistent subscriber on a surviving node has every id.
        @Test(.timeLimit(.minutes(8)))
        func killingTheNodeMidBatchLosesNoMessage() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            let topic = "fleet/89000000000000000003/events"
            let subscriber = try await natsConnected(
                natsSettings(
                    cluster, node: 2, clientID: "fleet-subscriber-\(UUID().uuidString.prefix(6))", cleanSession: false))
            let stream = try await subscriber.subscribe(topic, qos: 1)
            let subscriberEvents = subscriber.connectionEvents
            // A small window keeps the batch in flight long enough to be cut (acknowledgements pace it).
            let relay = try failover(cluster, maxInflight: 10)
            let events = relay.connectionEvents
            try await relay.start(timeout: .seconds(60))
            #expect(relay.currentHost?.port == cluster.mqttPort(0))

            let count = 2_000
            let messages = (1...count).map { MQTTMessage(topic: topic, text: "{\"id\":\($0)}", qos: 1) }
            let finished = Locked(false)
            let publishing = Task {
                try await relay.publish(messages)
                finished.withLock { $0 = true }
            }
            let ids = Collected<Int>()
            let counting = Task {
                for await message in stream {
                    if let id = Int(String(decoding: message.payload, as: UTF8.self).filter(\.isNumber)) {
                        _ = ids.append(id)
                    }
                    if Set(ids.items).count == count { return }
                }
            }
            // Freeze the node as soon as the first message came through (no PUBACK can finish the batch after that),
            // then kill it.
            let firstSeen = ContinuousClock.now + .seconds(60)
            while ids.items.isEmpty && ContinuousClock.now < firstSeen { try await Task.sleep(for: .milliseconds(5)) }
            try #require(!ids.items.isEmpty, "no message reached the subscriber: \(cluster.logs)")
            cluster.freeze(0)
            let finishedBeforeKill = finished.withLock { $0 }
            let killedAt = ContinuousClock.now
            cluster.kill(0)

            try await publishing.value
            let failedOverAfter = ContinuousClock.now - killedAt
            #expect(!finishedBeforeKill, "the batch was acknowledged before the kill: the test proved nothing")
            #expect(relay.currentHost != nil && relay.currentHost?.port != cluster.mqttPort(0))

            let everything = ContinuousClock.now + .seconds(120)
            while Set(ids.items).count < count && ContinuousClock.now < everything {
                try await Task.sleep(for: .milliseconds(50))
            }
            counting.cancel()
            let received = ids.items
            let missing = Set(1...count).subtracting(received)
            print(
                "NATS failover: publish returned \(failedOverAfter) after SIGKILL; \(received.count) received, "
                    + "\(received.count - Set(received).count) duplicates, \(missing.count) missing")
            #expect(missing.isEmpty, "missing ids \(missing.sorted().prefix(20)): \(cluster.logs)")

            await relay.stop(timeout: .seconds(5))
            await subscriber.stop(timeout: .seconds(5))
            let seen = await collect(events, timeout: .seconds(1)) { _ in false }
            let node = { (port: Int) in cluster.nodes.first { $0.mqttPort == port }?.name ?? "?" }
            print("NATS failover: relay events \(seen.map { "\(node($0.port)) \($0.event)" })")
            print(
                "NATS failover: subscriber events \(await collect(subscriberEvents, timeout: .seconds(1)) { _ in false })"
            )
            #expect(seen.first?.port == cluster.mqttPort(0))
            #expect(seen.contains { $0.port != cluster.mqttPort(0) }, "no event from the host failed over to")
        }

        /// The relay's own subscription is renewed on the host it fails over to. Its waits add up to
        /// about 310 s at worst (start 60, failover 120, delivery 120): a 5-minute limit could end it on
        /// a loaded machine before its own deadlines say what went wrong.
        @Test(.timeLimit(.minutes(8)))
        func aSubscriptionIsRenewedOnTheNextHost() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            let relay = try failover(cluster)
            let events = relay.connectionEvents
            try await relay.start(timeout: .seconds(60))
            let topic = "fleet/89000000000000000005/commands"
            let commands = try await relay.subscribe(topic, qos: 1)
            cluster.kill(0)
            let failedOver = await collect(events, timeout: .seconds(120)) { seen in
                seen.contains { if case .connected = $0.event { $0.port != cluster.mqttPort(0) } else { false } }
            }
            #expect(failedOver.contains { $0.port != cluster.mqttPort(0) }, "no failover: \(cluster.logs)")
            let sender = try await natsConnected(natsSettings(cluster, node: 2))
            // Sent until one arrives: the renewed SUBSCRIBE may be refused and retried while JetStream elects leaders.
            let received = Locked<MQTTMessage?>(nil)
            let reading = Task {
                for await message in commands {
                    received.withLock { $0 = message }
                    return
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while received.withLock({ $0 }) == nil && ContinuousClock.now < deadline {
                try await sender.publish(MQTTMessage(topic: topic, text: "reboot", qos: 1))
                try await Task.sleep(for: .seconds(1))
            }
            reading.cancel()
            #expect(received.withLock { $0 }.map { String(decoding: $0.payload, as: UTF8.self) } == "reboot")
            await sender.stop(timeout: .seconds(5))
            await relay.stop(timeout: .seconds(5))
        }

        @Test(.timeLimit(.minutes(5)))
        func aRetainedMessageSurvivesTheKillOfTheNodeItWasPublishedOn() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            let relay = try failover(cluster)
            try await relay.start(timeout: .seconds(60))
            let topic = "fleet/89000000000000000004/state"
            try await relay.publish(MQTTMessage(topic: topic, text: "online", qos: 1, retain: true))
            let acknowledgedAt = ContinuousClock.now
            cluster.kill(0)
            let late = try await natsConnected(natsSettings(cluster, node: 1))
            // Right after the kill NATS may refuse the SUBSCRIBE (SUBACK 0x80) until JetStream has new leaders.
            var refusals = 0
            var subscription: AsyncStream<MQTTMessage>?
            let granted = ContinuousClock.now + .seconds(90)
            while subscription == nil && ContinuousClock.now < granted {
                do {
                    subscription = try await late.subscribe(topic, qos: 1)
                } catch {
                    refusals += 1
                    try await Task.sleep(for: .seconds(1))
                }
            }
            let stream = try #require(subscription, "no SUBACK within 90 s: \(cluster.logs)")
            let received = await collect(stream, count: 1, timeout: .seconds(60))
            print(
                "NATS retained message seen on another node \(ContinuousClock.now - acknowledgedAt) after its PUBACK "
                    + "(\(refusals) SUBSCRIBEs refused before)")
            #expect(received.first.map { String(decoding: $0.payload, as: UTF8.self) } == "online", "\(cluster.logs)")
            #expect(received.first?.retain == true)
            await late.stop(timeout: .seconds(5))
            await relay.stop(timeout: .seconds(20))
        }

        /// The will is published by the node that holds the connection: the socket is aborted (a crash, a cut cable)
        /// while that node lives; the client reconnects to the same host, within the failover delay.
        @Test(.timeLimit(.minutes(5)))
        func theLastWillIsPublishedWhenTheConnectionDiesWithoutDisconnect() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            let watcher = try await natsConnected(natsSettings(cluster, node: 1))
            let wills = try await watcher.subscribe("fleet/relay/status", qos: 1)
            let will = MQTTMessage(topic: "fleet/relay/status", text: "offline", qos: 1)
            let relay = try failover(cluster, will: will, failoverAfter: .seconds(30))
            let events = relay.connectionEvents
            try await relay.start(timeout: .seconds(60))
            relay._abortSocketForTesting()
            let received = await collect(wills, count: 1, timeout: .seconds(60))
            #expect(received.first.map { String(decoding: $0.payload, as: UTF8.self) } == "offline", "\(cluster.logs)")
            // Reconnected to the same, living node (no failover).
            let reconnected = await collect(events, timeout: .seconds(60)) { seen in
                seen.filter { if case .connected = $0.event { true } else { false } }.count >= 2
            }
            let connects = reconnected.filter { if case .connected = $0.event { true } else { false } }
            #expect(connects.count >= 2, "no reconnect after the aborted socket: \(reconnected)")
            #expect(reconnected.allSatisfy { $0.port == cluster.mqttPort(0) })
            await relay.stop(timeout: .seconds(5))
            await watcher.stop(timeout: .seconds(5))
        }

        @Test(.timeLimit(.minutes(5)))
        func autoFallsBackToMQTT311BecauseNATSRefusesMQTT5() async throws {
            let cluster = try await NATSCluster.start()
            defer { cluster.stopAll() }
            let auto = try await natsConnected(natsSettings(cluster, node: 0, protocolVersion: .auto))
            #expect(auto.negotiatedProtocolVersion == 4)
            await auto.stop(timeout: .seconds(5))
            let v5 = try MQTTConnection(
                settings: natsSettings(cluster, node: 0, protocolVersion: .v5), logger: testLogger)
            do {
                try await v5.start(timeout: .seconds(30))
                Issue.record("NATS accepted MQTT 5")
            } catch {
                guard case .connectionRefused(_, _, .unsupportedProtocolVersion) = error else {
                    Issue.record("unexpected error: \(error)")
                    return
                }
            }
            let relay = try failover(cluster, protocolVersion: .auto)
            try await relay.start(timeout: .seconds(60))
            #expect(relay.negotiatedProtocolVersion == 4)
            await relay.stop(timeout: .seconds(5))
        }

        @Test func refusesAnEmptyHostList() {
            #expect(throws: MQTTError.self) {
                try MQTTFailoverConnection(hosts: [], settings: MQTTSettings(clientID: "x"), logger: testLogger)
            }
        }
    }

}

/// A relay-like client of every node of `cluster`, in node order, failing over after 3 s by default.
private func failover(
    _ cluster: NATSCluster, will: MQTTMessage? = nil, maxInflight: Int = 1000, failoverAfter: Duration = .seconds(3),
    protocolVersion: MQTTProtocolChoice = .v311
) throws -> MQTTFailoverConnection {
    var settings = natsSettings(cluster, node: 0, clientID: "relay-\(UUID().uuidString.prefix(8))")
    settings.protocolVersion = protocolVersion
    settings.will = will
    settings.maxInflight = maxInflight
    return try MQTTFailoverConnection(
        hosts: cluster.mqttHosts, settings: settings, failoverAfter: failoverAfter, logger: testLogger)
}
