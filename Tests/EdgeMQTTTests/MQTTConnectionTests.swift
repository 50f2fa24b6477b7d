import EdgeCommon
import EdgeMQTT
import Foundation
import TestSupport
import Testing

@testable import EdgeMQTT

@Suite("MQTTConnection against a real mosquitto", .serialized)
struct MQTTConnectionTests {
    @Test(.timeLimit(.minutes(1)))
    func publishQoS1ArrivesWithExactBytes() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await connected(settings(broker))
        let publisher = try await connected(settings(broker))
        #expect(publisher.isConnected)
        #expect(publisher.negotiatedProtocolVersion == 5)
        let stream = try await subscriber.subscribe("t/bytes", qos: 1)
        let payload = (0...255).map { UInt8($0) } + Array("{\"id\":9007199254740993}".utf8)
        try await publisher.publish(MQTTMessage(topic: "t/bytes", payload: payload, qos: 1))
        let received = await collect(stream, count: 1, timeout: .seconds(5))
        #expect(received.first?.payload == payload)
        #expect(received.first?.qos == 1)
        // QoS 0 returns once written to the socket.
        try await publisher.publish(MQTTMessage(topic: "t/bytes", payload: [1, 2, 3], qos: 0))
        let qos0 = await collect(stream, count: 1, timeout: .seconds(5))
        #expect(qos0.first?.payload == [1, 2, 3])
        await publisher.stop(timeout: .seconds(2))
        await subscriber.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func mqtt5ContentTypeAndUserPropertiesArrive() async throws {
        let broker = try MosquittoBroker()
        let publisher = try await connected(settings(broker))
        let sub = try BackgroundClient([
            "-h", "127.0.0.1", "-p", "\(broker.port)", "-V", "mqttv5", "-t", "t/props", "-C", "1", "-W", "5",
            "-F", "%C|%P|%p",
        ])
        let own = try await connected(settings(broker))
        let stream = try await own.subscribe("t/props", qos: 1)
        try await Task.sleep(for: .milliseconds(300))  // mosquitto_sub subscribes
        let properties = MQTTProperties(
            contentType: "application/json", userProperties: [("event_id", "123"), ("severity", "INFO")])
        try await publisher.publish(MQTTMessage(topic: "t/props", text: "{}", qos: 1, properties: properties))
        let output = sub.finish()
        #expect(output.contains("application/json"))
        #expect(output.contains("event_id:123"))
        #expect(output.contains("severity:INFO"))
        let received = try #require(await collect(stream, count: 1, timeout: .seconds(5)).first)
        #expect(received.properties?.contentType == "application/json")
        #expect(received.properties?.userProperties.map { "\($0.0)=\($0.1)" } == ["event_id=123", "severity=INFO"])
        await publisher.stop(timeout: .seconds(2))
        await own.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func retainedMessageIsReadByALateSubscriber() async throws {
        let broker = try MosquittoBroker()
        let publisher = try await connected(settings(broker))
        try await publisher.publish(MQTTMessage(topic: "gw/1/state", text: "{\"registered\":true}", retain: true))
        await publisher.stop(timeout: .seconds(2))
        let late = try await connected(settings(broker))
        let stream = try await late.subscribe("gw/+/state", qos: 1)
        let received = await collect(stream, count: 1, timeout: .seconds(5))
        #expect(received.first.map { String(decoding: $0.payload, as: UTF8.self) } == "{\"registered\":true}")
        #expect(received.first?.retain == true)
        await late.stop(timeout: .seconds(2))
    }

    /// A kept session delivers what it queued right after the CONNACK: a subscription registered
    /// before `start` gets it (one made after `start` would register too late), and is subscribed
    /// again at the connect although the session is present.
    @Test(.timeLimit(.minutes(1)))
    func aSubscriptionRegisteredBeforeStartGetsWhatTheKeptSessionQueued() async throws {
        let broker = try MosquittoBroker()
        var persistent = settings(broker, clientID: "kept-session-client")
        persistent.cleanSession = false
        let first = try MQTTConnection(settings: persistent, logger: testLogger)
        let firstStream = try first.subscribeAtStart(["kept/a", "kept/b"], qos: 1)
        try await first.start(timeout: .seconds(5))
        #expect(first.sessionPresentAtStart == false)
        let publisher = try await connected(settings(broker))
        try await publisher.publish(MQTTMessage(topic: "kept/a", text: "live", qos: 1))
        #expect(await collect(firstStream, count: 1, timeout: .seconds(5)).map(\.topic) == ["kept/a"])
        await first.stop(timeout: .seconds(2))

        let queued = ["kept/b", "kept/a", "kept/b"]
        for (index, topic) in queued.enumerated() {
            try await publisher.publish(MQTTMessage(topic: topic, text: "away-\(index)", qos: 1))
        }
        let second = try MQTTConnection(settings: persistent, logger: testLogger)
        let stream = try second.subscribeAtStart(["kept/a", "kept/b"], qos: 1)
        #expect(throws: MQTTError.self) { _ = try publisher.subscribeAtStart(["kept/c"], qos: 1) }
        try await second.start(timeout: .seconds(5))
        #expect(second.sessionPresentAtStart == true)
        let received = await collect(stream, count: queued.count, timeout: .seconds(5))
        #expect(received.map { String(decoding: $0.payload, as: UTF8.self) } == ["away-0", "away-1", "away-2"])
        #expect(received.map(\.topic) == queued)
        // Subscribed again at the connect: live messages keep coming.
        try await publisher.publish(MQTTMessage(topic: "kept/a", text: "after", qos: 1))
        #expect(await collect(stream, count: 1, timeout: .seconds(5)).map(\.topic) == ["kept/a"])
        await publisher.stop(timeout: .seconds(2))
        await second.stop(timeout: .seconds(2))
    }

    /// Bridge mode depends on it: the bridge's notification, then the retained state its
    /// resubscription brings, on different filters, must reach the agent in that order.
    @Test(.timeLimit(.minutes(1)))
    func oneSubscriptionForSeveralFiltersKeepsTheBrokersOrder() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await connected(settings(broker))
        let publisher = try await connected(settings(broker))
        let stream = try await subscriber.subscribe(["o/a", "o/b"], qos: 1)
        let topics = (0..<400).map { $0 % 3 == 0 ? "o/a" : "o/b" }
        for (index, topic) in topics.enumerated() {
            try await publisher.publish(MQTTMessage(topic: topic, text: "\(index)", qos: 1))
        }
        let received = await collect(stream, count: topics.count + 1, timeout: .seconds(5))
        // Each message once, in the publisher's order.
        #expect(received.map { String(decoding: $0.payload, as: UTF8.self) } == topics.indices.map { "\($0)" })
        #expect(received.map(\.topic) == topics)
        await publisher.stop(timeout: .seconds(2))
        await subscriber.stop(timeout: .seconds(2))
    }
    @Test(.timeLimit(.minutes(1)))
    func lastWillFiresWhenTheConnectionDiesWithoutDisconnect() async throws {
        let broker = try MosquittoBroker()
        let watcher = try await connected(settings(broker))
        let stream = try await watcher.subscribe("gw/1/status", qos: 1)
        var dying = settings(broker)
        dying.will = MQTTMessage(topic: "gw/1/status", text: "offline", qos: 1, retain: true)
        let agent = try await connected(dying)
        try await agent.publish(MQTTMessage(topic: "gw/1/status", text: "online", qos: 1, retain: true))
        agent._abortSocketForTesting()  // the broker sees the TCP connection end without DISCONNECT, as on SIGKILL
        let received = await collect(stream, count: 2, timeout: .seconds(5))
        #expect(received.map { String(decoding: $0.payload, as: UTF8.self) } == ["online", "offline"])
        // A clean stop does not send the will.
        let clean = try await connected(dying)
        try await clean.publish(MQTTMessage(topic: "gw/1/status", text: "online", qos: 1, retain: true))
        await clean.stop(timeout: .seconds(2))
        await agent.stop(timeout: .seconds(2))
        let afterStop = await collect(stream, count: 3, timeout: .seconds(2))
        #expect(afterStop.last.map { String(decoding: $0.payload, as: UTF8.self) } == "online")
        await watcher.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func brokerRestartWhilePublishingLosesNothing() async throws {
        let broker = try MosquittoBroker(options: .init(persistence: true))
        var subscriberSettings = settings(broker, clientID: "persistent-sub", protocolVersion: .v311)
        subscriberSettings.cleanSession = false
        let subscriber = try await connected(subscriberSettings)
        let stream = try await subscriber.subscribe("restart/#", qos: 1)
        let publisher = try await connected(settings(broker))
        let events = publisher.connectionEvents
        let total = 300
        let acknowledged = Collected<Int>()
        let publishing = Task {
            for index in 0..<total {
                try await publisher.publish(MQTTMessage(topic: "restart/\(index)", text: "\(index)", qos: 1))
                _ = acknowledged.append(index)
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        while acknowledged.items.count < 50 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(broker.stop(), "SIGTERM did not stop mosquitto")
        let acknowledgedWhileUp = acknowledged.items.count
        try await Task.sleep(for: .seconds(1))
        // The publisher awaits each PUBACK before the next publish, so at most one can have been
        // sent by the broker before it died and be counted only after stop() returned (seen once
        // in 20 loaded runs); a second one would have been acknowledged while the broker was down.
        #expect(acknowledged.items.count <= acknowledgedWhileUp + 1, "acknowledged while the broker was down")
        try broker.start()
        try await publishing.value  // every publish acknowledged
        #expect(acknowledged.items.count == total)
        // QoS 1 may deliver a message twice around the restart: wait for every distinct one.
        let index: @Sendable (MQTTMessage) -> Int? = { Int(String(decoding: $0.payload, as: UTF8.self)) }
        let received = await collect(stream, timeout: .seconds(10)) { Set($0.compactMap(index)).count >= total }
        let indices = Set(received.compactMap(index))
        let duplicates = received.count - indices.count
        print("broker restart: \(total) published, \(indices.count) distinct received, \(duplicates) duplicates")
        #expect(indices == Set(0..<total), "missing: \(Set(0..<total).subtracting(indices).sorted().prefix(20))")
        let seen = await collect(events, count: 2, timeout: .seconds(5))
        #expect(seen.count == 2)
        if case .disconnected? = seen.first {} else { Issue.record("expected a disconnect event, got \(seen)") }
        if case .connected? = seen.last {} else { Issue.record("expected a reconnect event, got \(seen)") }
        await publisher.stop(timeout: .seconds(2))
        await subscriber.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func brokerDownAtStartIsAClearErrorWithinTheTimeout() async throws {
        let port = try MosquittoBroker.freePort()
        let connection = try MQTTConnection(
            settings: MQTTSettings(host: "127.0.0.1", port: port, clientID: "down"), logger: testLogger)
        let started = ContinuousClock.now
        do {
            try await connection.start(timeout: .seconds(2))
            Issue.record("connected to nothing")
        } catch {
            guard case .brokerUnreachable = error else { throw error }
            #expect(error.description.contains("systemctl status mosquitto"))
            #expect(error.description.contains("\(port)"))
        }
        // Far past the 2 s timeout only if the start hangs; a loaded machine stays well inside.
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(15))
        #expect(!connection.isConnected)
    }

    @Test(.timeLimit(.minutes(1)))
    func wrongPasswordIsAClearErrorWithoutThePassword() async throws {
        let broker = try MosquittoBroker(options: .init(users: ["edge": "right-pass"]))
        var wrong = settings(broker)
        wrong.username = "edge"
        wrong.password = "wrong-pass-42"
        let connection = try MQTTConnection(settings: wrong, logger: testLogger)
        let started = ContinuousClock.now
        do {
            try await connection.start(timeout: .seconds(60))
            Issue.record("connected with a wrong password")
        } catch {
            guard case .connectionRefused(_, _, let refusal) = error else { throw error }
            #expect(refusal == .badCredentials || refusal == .notAuthorized)
            #expect(error.description.contains("username"))
            #expect(!error.description.contains("wrong-pass-42"))
        }
        // The refusal ends the start: it does not wait for the 60 s timeout.
        #expect(ContinuousClock.now - started < .seconds(30))
        var right = wrong
        right.password = "right-pass"
        let good = try await connected(right)
        #expect(good.isConnected)
        await good.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func explicitMQTT311WorksAndIgnoresProperties() async throws {
        let broker = try MosquittoBroker()
        let connection = try await connected(settings(broker, protocolVersion: .v311))
        #expect(connection.negotiatedProtocolVersion == 4)
        let stream = try await connection.subscribe("v3/#", qos: 1)
        try await connection.publish(
            MQTTMessage(topic: "v3/x", text: "hello", properties: MQTTProperties(contentType: "text/plain")))
        let received = await collect(stream, count: 1, timeout: .seconds(5))
        #expect(received.first.map { String(decoding: $0.payload, as: UTF8.self) } == "hello")
        #expect(received.first?.properties == nil)
        await connection.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func tenThousandPipelinedPublishesAreAllAcknowledged() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await connected(settings(broker))
        let stream = try await subscriber.subscribe("bulk/#", qos: 1)
        let publisher = try await connected(settings(broker))
        let total = 10_000
        let messages = (0..<total).map {
            MQTTMessage(topic: "bulk/\($0 % 16)", text: "{\"id\":\($0),\"type\":\"update-location\"}", qos: 1)
        }
        let started = ContinuousClock.now
        try await publisher.publish(messages)
        let elapsed = ContinuousClock.now - started
        print("10,000 QoS 1 publishes acknowledged in \(elapsed)")
        #expect(elapsed < .seconds(20))
        let received = await collect(stream, count: total, timeout: .seconds(20))
        #expect(received.count == total)
        await publisher.stop(timeout: .seconds(2))
        await subscriber.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentSinglePublishesAllComplete() async throws {
        // Many tasks racing publish calls against the network thread's acknowledgements (acks that arrive
        // before the publisher registered its message id must not be lost).
        let broker = try MosquittoBroker()
        let publisher = try await connected(settings(broker))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<40 {
                group.addTask {
                    for index in 0..<100 {
                        try await publisher.publish(
                            MQTTMessage(topic: "race/\(task)", text: "\(index)", qos: index % 4 == 0 ? 0 : 1))
                    }
                }
            }
            try await group.waitForAll()
        }
        await publisher.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func restartingTheNetworkThreadKeepsQueuedPublishes() async throws {
        // What the supervisor does when libmosquitto's thread gave up: the queued QoS 1 message still arrives.
        let broker = try MosquittoBroker()
        let publisher = try await connected(settings(broker))
        broker.kill()
        try await Task.sleep(for: .milliseconds(200))
        let waiting = Task { try await publisher.publish(MQTTMessage(topic: "queued/x", text: "kept", qos: 1)) }
        try await Task.sleep(for: .milliseconds(200))
        let restart = Task { await publisher.restartNetworkThread() }  // retries its connect until the broker is up
        try await Task.sleep(for: .milliseconds(500))
        try broker.start()
        await restart.value
        let watcher = try await connected(settings(broker))
        try await waiting.value
        #expect(publisher.isConnected)
        await publisher.stop(timeout: .seconds(2))
        await watcher.stop(timeout: .seconds(2))
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellingAPublishWhileTheBrokerIsDownStopsWaiting() async throws {
        let broker = try MosquittoBroker()
        let publisher = try await connected(settings(broker))
        broker.kill()
        try await Task.sleep(for: .milliseconds(200))
        let waiting = Task { try await publisher.publish(MQTTMessage(topic: "down/x", text: "1", qos: 1)) }
        try await Task.sleep(for: .milliseconds(300))
        waiting.cancel()
        let result = await waiting.result
        #expect(throws: MQTTError.self) { try result.get() }
        await publisher.stop(timeout: .milliseconds(200))
        await #expect(throws: MQTTError.self) {
            try await publisher.publish(MQTTMessage(topic: "down/x", text: "2", qos: 1))
        }
    }
}

@Suite("Protocol fallback against a broker that refuses MQTT 5")
struct ProtocolFallbackTests {
    @Test(.timeLimit(.minutes(1)))
    func autoFallsBackToMQTT311() async throws {
        let broker = try MosquittoBroker()
        let proxy = try MQTT311OnlyProxy(targetPort: broker.port)
        defer { proxy.close() }
        var auto = MQTTSettings(
            host: "127.0.0.1", port: proxy.port, clientID: "fallback", keepalive: .seconds(10), protocolVersion: .auto)
        auto.will = MQTTMessage(
            topic: "fb/status", text: "offline", retain: true, properties: MQTTProperties(contentType: "text/plain"))
        let connection = try MQTTConnection(settings: auto, logger: testLogger)
        try await connection.start(timeout: .seconds(5))
        #expect(proxy.refusedV5 == 1)
        #expect(connection.negotiatedProtocolVersion == 4)
        let stream = try await connection.subscribe("fb/#", qos: 1)
        try await connection.publish(
            MQTTMessage(topic: "fb/x", text: "via 3.1.1", properties: MQTTProperties(contentType: "text/plain")))
        let received = await collect(stream, count: 1, timeout: .seconds(5))
        #expect(received.first.map { String(decoding: $0.payload, as: UTF8.self) } == "via 3.1.1")
        await connection.stop(timeout: .seconds(2))

        // Asked for MQTT 5 only: the refusal stands, with a clear error.
        var v5 = auto
        v5.protocolVersion = .v5
        let strict = try MQTTConnection(settings: v5, logger: testLogger)
        do {
            try await strict.start(timeout: .seconds(5))
            Issue.record("MQTT 5 accepted by a 3.1.1-only broker")
        } catch {
            guard case .connectionRefused(_, _, .unsupportedProtocolVersion) = error else { throw error }
            #expect(error.description.contains("protocol"))
        }
    }
}
