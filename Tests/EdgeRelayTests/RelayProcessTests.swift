import EdgeCommon
import EmnifyEmulator
import Foundation
import Glibc
import TestSupport
import Testing

/// `emnify-edge relay` as an operator runs it: the agent's executable hands over to the relay's,
/// which reads relay.toml, polls the emulator's org feed, takes the webhook and publishes on a real
/// mosquitto. Everything it prints at trace level, its argv and its health topic hold no secret.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RelayProcessTests {
    @Test func theRelayRunsFromTheAgentsCommandAndLeaksNoSecret() async throws {
        let emulator = try await TestEmulator.start()
        let broker = try MosquittoBroker()
        let recorder = try await TopicRecorder(brokerPort: broker.port)
        let directory = try TemporaryDirectory(prefix: "relay-process")
        let webhookSecret = "relay-process-webhook-secret-42"
        let tokenFile = try directory.write(emulator.emulator.applicationToken, to: "application-token")
        let webhookFile = try directory.write(webhookSecret, to: "webhook-token")
        chmod(tokenFile, 0o600)
        chmod(webhookFile, 0o600)
        let state = directory.file("state")
        mkdir(state, 0o700)
        let port = try MosquittoBroker.freePort()
        let config = try directory.write(
            """
            [api]
            url = "\(emulator.baseURL)"
            token_file = "\(tokenFile)"
            ca_file = "\(emulator.caFile!)"
            [mqtt]
            hosts = ["127.0.0.1:\(broker.port)"]
            protocol = "3.1.1"
            [relay]
            listen = "127.0.0.1:\(port)"
            webhook_token_file = "\(webhookFile)"
            state_dir = "\(state)"
            poll_interval = "2s"
            relay_id = "relay-p"
            [log]
            level = "trace"
            """, to: "relay.toml")
        let relay = try RunningProcess(
            BuiltProducts.path(of: "emnify-edge"), ["relay", "--config", config], environment: [:])
        #expect(await recorder.wait { $0.last("emnify/relay/relay-p/status") == "online" })
        // The backfill came from the org-wide feed.
        #expect(await recorder.wait { !$0.events().isEmpty })
        let url = "http://127.0.0.1:\(port)/emnify/events"
        let event =
            #"{"id":777000000000001,"timestamp":"2026-12-01T10:00:00Z","event_type":{"id":3,"description":"Create PDP Context"},"sim":{"id":1,"iccid":"8988303000000000777"}}"#
        let accepted = try await Curl.request(
            url, method: "POST", body: event, headers: ["Authorization: Bearer \(webhookSecret)"])
        #expect(accepted.status == 200, "\(accepted.bodyText)")
        let refused = try await Curl.request(
            url, method: "POST", body: event, headers: ["Authorization: Bearer \(webhookSecret)x"])
        #expect(refused.status == 401)
        #expect(await recorder.wait { $0.events().contains { $0.topic.hasPrefix("emnify/8988303000000000777/") } })
        // A forced re-authentication while it runs: the next poll is refused, a new JWT issued, and
        // polling goes on (the health topic counts polls that succeeded).
        let authentications = await emulator.control.counters().authentications
        let pollsBefore = Self.polls(recorder.last("emnify/relay/relay-p/health"))
        await emulator.control.revokeTokens()
        let deadline = ContinuousClock.now + .seconds(30)
        while await emulator.control.counters().authentications <= authentications, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await emulator.control.counters().authentications > authentications)
        let health = "emnify/relay/relay-p/health"
        #expect(await recorder.wait(timeout: .seconds(60)) { Self.polls($0.last(health)) > pollsBefore + 1 })

        let cmdline = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(relay.processIdentifier)/cmdline"))
        let argv = String(decoding: cmdline.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        #expect(argv.contains("emnify-edge-relay --config"), "exec'd into the relay: \(argv)")
        relay.signal(SIGTERM)
        let stopped = await relay.wait(timeout: .seconds(20))
        #expect(stopped.exitCode == 0, "\(stopped.standardError.suffix(2000))")
        #expect(await recorder.wait { $0.last("emnify/relay/relay-p/status") == "offline" })

        var secrets = ["application token": emulator.emulator.applicationToken, "webhook secret": webhookSecret]
        for (index, jwt) in await emulator.control.issuedTokens().enumerated() { secrets["JWT \(index)"] = jwt }
        let scan = SecretScan(secrets)
        var findings: [String] = []
        findings += scan.findings(in: argv, source: "argv")
        findings += scan.findings(in: stopped.standardOutput, source: "stdout")
        findings += scan.findings(in: stopped.standardError, source: "stderr (trace)")
        for message in recorder.messages.withLock({ $0 }) {
            findings += scan.findings(in: message.payload, source: message.topic)
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? [] where file != "auth-token" {
            findings += scan.findings(
                in: Array((try? Data(contentsOf: URL(fileURLWithPath: state + "/" + file))) ?? Data()), source: file)
        }
        #expect(findings.isEmpty, "\(findings)")
        #expect(stopped.standardError.contains("/api/v1/event"), "trace logging was on")
        await recorder.stop()
        _ = broker.stop()
        await emulator.stop()
    }

    /// `counters.polls` of a relay health message (-1 without one).
    static func polls(_ health: String?) -> Int {
        guard let health, let object = try? JSONSerialization.jsonObject(with: Data(health.utf8)) as? [String: Any],
            let counters = object["counters"] as? [String: Any], let polls = counters["polls"] as? Int
        else { return -1 }
        return polls
    }
}
