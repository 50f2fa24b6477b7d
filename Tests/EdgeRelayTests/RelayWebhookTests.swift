import EdgeCommon
import EdgeMQTT
import Foundation
import TestSupport
import Testing

@testable import EdgeRelay

/// The webhook over real HTTP, publishing to a real mosquitto.
@Suite(.serialized) struct RelayWebhookTests {
    @Test func eventsReachTheBrokerAndTheRelayAnnouncesItself() async throws {
        let broker = try MosquittoBroker()
        let recorder = try await TopicRecorder(brokerPort: broker.port)
        let relay = try await RunningRelay.start(brokerPort: broker.port)
        let body =
            "["
            + [EventJSON.sim(id: 1, at: "2026-12-01T10:00:01Z"), EventJSON.user(id: 2, at: "2026-12-01T10:00:02Z")]
            .joined(separator: ",") + "]"
        let answer = try await relay.post(body)
        #expect(answer.status == 200, "\(answer.bodyText)")
        #expect(await recorder.wait { $0.events().count == 2 })
        #expect(
            Set(recorder.events().map(\.topic)) == [
                "emnify/8988303000012345678/event/create-pdp-context", "emnify/org/event/user-authentication-failed",
            ])
        #expect(await recorder.wait { $0.last("emnify/relay/relay-a/status") == "online" })
        #expect(await recorder.wait { $0.last("emnify/8988303000012345678/state")?.contains("\"up\"") == true })
        #expect(
            await recorder.wait {
                $0.last("emnify/relay/relay-a/health")?.contains("\"published_from_stream\":2") == true
            })
        // PUT and PATCH too (the stream's configured method).
        #expect(try await relay.post(EventJSON.sim(id: 3, at: "2026-12-01T10:00:03Z"), method: "PUT").status == 200)
        #expect(try await relay.post(EventJSON.sim(id: 4, at: "2026-12-01T10:00:04Z"), method: "PATCH").status == 200)
        #expect(try await Curl.request("http://127.0.0.1:\(relay.port)/healthz").status == 200)
        await relay.stop()
        #expect(await recorder.wait { $0.last("emnify/relay/relay-a/status") == "offline" })
        await recorder.stop()
        _ = broker.stop()
    }

    @Test func badRequestsGetTheirAnswerAndTheRelayKeepsServing() async throws {
        let broker = try MosquittoBroker()
        let recorder = try await TopicRecorder(brokerPort: broker.port)
        let relay = try await RunningRelay.start(brokerPort: broker.port, maxBodySize: 1 << 20)
        let event = EventJSON.sim(id: 10, at: "2026-12-01T10:00:00Z")
        #expect(try await relay.post(event, token: nil).status == 401)
        #expect(try await relay.post(event, token: "wrong").status == 401)
        #expect(try await relay.post("{not json").status == 400)
        // 100 MB, streamed by curl from a file: refused without reading it all.
        let big = relay.directory.file("big.json")
        FileManager.default.createFile(atPath: big, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: 100 << 20)
        try handle.close()
        let tooLarge = try await Curl.request(
            relay.webhookURL, method: "POST", headers: ["Authorization: Bearer s3cret"],
            extraArguments: ["--data-binary", "@" + big])
        #expect(tooLarge.status == 413)
        // Deeply nested, an id past 64 bits, an event without a SIM: each as documented.
        let deep =
            "[" + String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000) + "]"
        let deepFile = relay.directory.file("deep.json")
        try deep.write(toFile: deepFile, atomically: true, encoding: .utf8)
        let deepAnswer = try await Curl.request(
            relay.webhookURL, method: "POST", headers: ["Authorization: Bearer s3cret"],
            extraArguments: ["--data-binary", "@" + deepFile])
        #expect(deepAnswer.status == 200)
        #expect(deepAnswer.bodyText.contains("\"dead_lettered\":1"))
        let huge = event.replacingOccurrences(of: "\"id\":10,", with: "\"id\":99999999999999999999,")
        #expect(try await relay.post(huge).bodyText.contains("\"dead_lettered\":1"))
        #expect(try await relay.post(EventJSON.user(id: 11, at: "2026-12-01T10:00:00Z")).status == 200)
        // Still serving, and only the two good events were published.
        #expect(try await relay.post(event).status == 200)
        #expect(await recorder.wait { $0.events().count == 2 })
        try? await Task.sleep(for: .milliseconds(300))
        #expect(recorder.events().count == 2)
        await relay.stop()
        await recorder.stop()
        _ = broker.stop()
    }

    @Test func aDeadBrokerIs503AndTheRetryAfterItsReturnPublishes() async throws {
        let broker = try MosquittoBroker()
        let relay = try await RunningRelay.start(brokerPort: broker.port, ackTimeout: .seconds(2))
        _ = broker.stop()
        let event = EventJSON.sim(id: 20, at: "2026-12-01T10:00:00Z")
        let refused = try await relay.post(event)
        #expect(refused.status == 503)
        #expect(refused.headers["retry-after"] == "5")
        #expect(try await Curl.request("http://127.0.0.1:\(relay.port)/healthz").status == 503)
        try broker.restart()
        let recorder = try await TopicRecorder(brokerPort: broker.port)
        // The streamer retries until the relay can publish again.
        var status = 0
        for _ in 0..<30 where status != 200 {
            status = try await relay.post(event).status
            if status != 200 { try await Task.sleep(for: .seconds(1)) }
        }
        #expect(status == 200)
        #expect(await recorder.wait { $0.events().contains { $0.topic.hasSuffix("/event/create-pdp-context") } })
        await relay.stop()
        await recorder.stop()
        _ = broker.stop()
    }

    @Test func theWebhookOverHTTPSWithTheConfiguredCertificate() async throws {
        let broker = try MosquittoBroker()
        let directory = try TemporaryDirectory(prefix: "relay-tls")
        let key = directory.file("key.pem")
        let certificate = directory.file("certificate.pem")
        let openssl = try await ChildProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out",
                certificate,
            ])
        try #require(openssl.exitCode == 0, "\(openssl.standardError)")
        let relay = try await RunningRelay.start(brokerPort: broker.port, tls: (certificate, key))
        #expect(relay.webhookURL.hasPrefix("https://"))
        let event = EventJSON.sim(id: 30, at: "2026-12-01T10:00:00Z")
        let answer = try await Curl.request(
            relay.webhookURL, method: "POST", body: event, headers: ["Authorization: Bearer s3cret"],
            caFile: certificate)
        #expect(answer.status == 200, "\(answer.standardError)")
        // Without trusting the certificate the client refuses the connection: TLS is real.
        let untrusted = try await Curl.request(relay.webhookURL, method: "POST", body: event)
        #expect(untrusted.exitCode == 60)
        await relay.stop()
        _ = broker.stop()
    }
}
