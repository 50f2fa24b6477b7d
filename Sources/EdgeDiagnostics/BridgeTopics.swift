import EdgeAgent
import EdgeCommon
import EdgeMQTT

#if canImport(Glibc)
    import Glibc
#endif

/// Bridge mode: what the local broker retains about the bridge to the fleet cluster, read once and
/// shared by the bridge and relay checks. mosquitto retains the bridge's state on
/// `<prefix>/<iccid>/bridge` ("1" connected, "0" down, `notifications_local_only`); the relays'
/// statuses come in through the bridge and are retained on `<prefix>/relay/<relay id>/status`.
struct BridgeTopics: Sendable, Equatable {
    /// The bridge notification's payload; nil when the broker holds none.
    var notification: String?
    /// Relay id → its retained status (`online` / `offline`).
    var relays: [String: String]
    /// The marker published after subscribing came back, so every retained message was seen (the
    /// broker sends them before anything published later on the same subscription).
    var complete: Bool

    struct Problem: Error, Sendable, Equatable {
        var text: String
    }

    /// Said after a finding drawn from an incomplete read: what was not seen may still be there.
    func caveat(_ topics: TopicLayout) -> String {
        complete
            ? ""
            : " (the read of \(topics.prefix)/# did not finish within 5 s: the broker's ACL may hide topics from this user)"
    }

    /// The relays whose status is `online`, sorted.
    var onlineRelays: [String] { relays.filter { $0.value == "online" }.keys.sorted() }

    /// One subscription to `<prefix>/#` at QoS 0, then a marker published on a private topic under it:
    /// delivery is in order, so once the marker is back every retained message has arrived. No fixed
    /// wait, and nothing is published where the agent or the bridge would take it for a relay's word.
    static func read(_ session: DiagnosticSession, _ topics: TopicLayout) async -> Result<BridgeTopics, Problem> {
        let connection: MQTTConnection
        do {
            connection = try BrokerCheck.connect(session)
        } catch {
            return .failure(Problem(text: "the broker settings cannot be used: \(error)"))
        }
        do {
            try await connection.start(timeout: .seconds(3))
        } catch {
            await connection.stop(timeout: .seconds(1))
            return .failure(Problem(text: "cannot connect to the local broker: \(error)"))
        }
        let result = await collect(connection, topics)
        await connection.stop(timeout: .seconds(1))
        return result
    }

    private static func collect(_ connection: MQTTConnection, _ topics: TopicLayout) async -> Result<
        BridgeTopics, Problem
    > {
        let nonce = String(UInt64.random(in: 1...UInt64.max), radix: 36)
        let marker = "\(topics.prefix)/_diagnose/\(getpid())-\(nonce)"
        let messages: [MQTTMessage]
        do {
            let stream = try await connection.subscribe(topics.prefix + "/#", qos: 0)
            try await connection.publish(MQTTMessage(topic: marker, text: "diagnose marker", qos: 0))
            messages = await MessageCollector.collect(stream, timeout: .seconds(5)) { $0.last?.topic == marker }
        } catch {
            return .failure(Problem(text: "cannot read \(topics.prefix)/# on the local broker: \(error)"))
        }
        return .success(parse(messages, topics, complete: messages.last?.topic == marker))
    }

    /// The retained messages that matter: the bridge notification and the relays' statuses.
    static func parse(_ messages: [MQTTMessage], _ topics: TopicLayout, complete: Bool) -> BridgeTopics {
        var found = BridgeTopics(notification: nil, relays: [:], complete: complete)
        let relayPrefix = topics.prefix + "/relay/"
        for message in messages where message.retain {
            var payload = Substring(String(decoding: message.payload, as: UTF8.self))
            while payload.first?.isWhitespace == true { payload = payload.dropFirst() }
            while payload.last?.isWhitespace == true { payload = payload.dropLast() }
            if message.topic == topics.base + "/bridge" {
                found.notification = String(payload)
            } else if message.topic.hasPrefix(relayPrefix), message.topic.hasSuffix("/status") {
                let id = message.topic.dropFirst(relayPrefix.count).dropLast("/status".count)
                if !id.isEmpty, !id.contains("/") { found.relays[String(id)] = String(payload) }
            }
        }
        return found
    }
}

extension BridgeTopics {
    /// A payload as a report shows it: another program wrote it, so control characters become `?`
    /// and a long one is cut.
    static func shown(_ payload: String) -> String {
        let printable = String(
            payload.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return printable.count > 40 ? printable.prefix(40) + "…" : printable
    }
}

extension DiagnosticSession {
    /// The bridge's topics on the local broker, read on first use.
    func bridgeTopics(_ topics: TopicLayout) async -> Result<BridgeTopics, BridgeTopics.Problem> {
        if let bridgeTopics { return bridgeTopics }
        let read = await BridgeTopics.read(self, topics)
        bridgeTopics = read
        return read
    }
}
