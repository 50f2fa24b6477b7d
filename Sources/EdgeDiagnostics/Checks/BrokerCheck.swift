import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EdgeRuntime
import EmnifyAPI
import Logging
import ModemIdentity

#if canImport(Glibc)
    import Glibc
#endif

/// 8. The local broker: connect with the agent's settings, publish and receive a probe on a
/// private topic, and read the agent's retained `status`, `state` and `health`.
struct BrokerCheck: DiagnosticCheck {
    let id = "broker"
    let title = "Local MQTT broker"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        let mqtt = session.configuration.mqtt
        var details = ["broker": "\(mqtt.host):\(mqtt.port)", "tls": mqtt.caFile == nil ? "no" : "yes"]
        let connection: MQTTConnection
        do {
            connection = try Self.connect(session)
        } catch {
            return .fail(
                "the broker settings cannot be used: \(error)", next: "check [mqtt] in the configuration",
                details: details)
        }
        let started = ContinuousClock.now
        do {
            try await connection.start(timeout: .seconds(3))
        } catch {
            await connection.stop(timeout: .seconds(1))
            details["error"] = "\(error)"
            return .fail(
                "cannot connect to the broker at \(mqtt.host):\(mqtt.port): \(error)", next: Self.nextStep(error),
                details: details)
        }
        details["connect_ms"] = String((ContinuousClock.now - started).wholeMilliseconds)
        details["mqtt_version"] = connection.negotiatedProtocolVersion.map { $0 == 5 ? "5" : "3.1.1" }
        session.brokerReachable = true
        let outcome = await Self.exercise(connection, session, details)
        await connection.stop(timeout: .seconds(1))
        return outcome
    }

    /// Probe round trip, then the agent's retained topics.
    static func exercise(_ connection: MQTTConnection, _ session: DiagnosticSession, _ details: [String: String]) async
        -> CheckOutcome
    {
        var details = details
        // The probe: a private topic nobody else uses, so the round trip proves publish and subscribe.
        let nonce = String(UInt64.random(in: 1...UInt64.max), radix: 36)
        let probeTopic = "\(session.configuration.mqtt.topicPrefix)/_diagnose/\(getpid())-\(nonce)"
        do {
            let stream = try await connection.subscribe(probeTopic, qos: 1)
            let sent = ContinuousClock.now
            try await connection.publish(MQTTMessage(topic: probeTopic, text: "diagnose probe \(nonce)", qos: 1))
            let got = await MessageCollector.collect(stream, timeout: .seconds(3)) { !$0.isEmpty }
            guard !got.isEmpty else {
                return .fail(
                    "connected, but the probe published on \(probeTopic) did not come back within 3 s",
                    next: "check the broker's ACLs for this user (publish and subscribe under the topic prefix)",
                    details: details)
            }
            details["probe_round_trip_ms"] = String((ContinuousClock.now - sent).wholeMilliseconds)
        } catch {
            return .fail(
                "connected, but the probe failed: \(error)", next: "check the broker's ACLs for this user",
                details: details)
        }

        guard let topics = session.topics else {
            return .warn(
                "publish and subscribe work; the agent's topics are unknown without an ICCID",
                next: "fix the modem check so the ICCID is known", details: details)
        }
        details["topics"] = topics.base + "/…"
        do {
            let stream = try await connection.subscribe(topics.base + "/+", qos: 1)
            let wanted: Set<String> = ["status", "state", "health"]
            let got = await MessageCollector.collect(stream, timeout: .seconds(2)) { messages in
                wanted.isSubset(
                    of: Set(
                        messages.filter(\.retain).map { $0.topic.split(separator: "/").last.map(String.init) ?? "" }))
            }
            for message in got where message.retain {
                let name = message.topic.split(separator: "/").last.map(String.init) ?? message.topic
                let text = String(decoding: message.payload, as: UTF8.self)
                session.retained[name] = text
                if wanted.contains(name) { details["retained_\(name)"] = String(text.prefix(400)) }
            }
        } catch {
            return .warn(
                "publish and subscribe work; reading the agent's topics failed: \(error)", next: "check ACLs",
                details: details)
        }
        let missing = ["status", "state", "health"].filter { session.retained[$0] == nil }
        if missing.count == 3 {
            return .warn(
                "publish and subscribe work, but nothing is retained under \(topics.base)",
                next:
                    "the agent has not published to this broker: is it running, with the same [mqtt] settings and topic_prefix?",
                details: details)
        }
        if session.retained["status"] == "offline" {
            return .warn(
                "publish and subscribe work; the agent's retained status is 'offline'",
                next: "the agent is not connected to the broker: see the agent check", details: details)
        }
        if !missing.isEmpty {
            return .warn(
                "publish and subscribe work; retained \(missing.joined(separator: ", ")) missing under \(topics.base)",
                next: "the agent has not completed a poll yet; see the agent check", details: details)
        }
        return .pass(
            "publish and subscribe work (\(details["probe_round_trip_ms"] ?? "?") ms); agent status '\(session.retained["status"]!)', "
                + "state and health retained", details: details)
    }

    static func connect(_ session: DiagnosticSession) throws -> MQTTConnection {
        var settings = try session.parts.mqttSettings(will: nil)
        // Not the agent's client id: taking it over would disconnect the running agent.
        settings.clientID = "emnify-edge-diagnose-\(getpid())"
        settings.cleanSession = true
        settings.will = nil
        return try MQTTConnection(settings: settings, logger: Logger(label: "emnify-edge.diagnose.mqtt"))
    }

    static func nextStep(_ error: MQTTError) -> String {
        switch error {
        case .connectionRefused(_, _, let refusal):
            switch refusal {
            case .badCredentials, .notAuthorized:
                return "check [mqtt] username and password_file against the broker's password file and ACLs"
            default:
                return "check the broker's log (journalctl -u mosquitto)"
            }
        case .tls:
            return "check [mqtt] ca_file, cert_file and key_file, and the broker's TLS listener"
        default:
            return
                "start the broker (systemctl start mosquitto) or fix [mqtt] host and port; 'ss -ltn' shows listening ports"
        }
    }
}
