import CMosquitto
import EdgeCommon
import Logging

/// The Swift side of one libmosquitto client: all mutable state behind one lock (`Locked`), fed by the callbacks on
/// libmosquitto's network thread and by the async API on Swift's threads.
///
/// Rule: no libmosquitto call is made while the mutex is held (libmosquitto takes its own locks around callbacks;
/// holding ours across its calls could deadlock). Continuations are resumed and streams fed after unlocking.
final class MQTTClientCore: Sendable {
    let settings: MQTTSettings
    let logger: Logger
    let state: Locked<State>

    init(settings: MQTTSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.state = Locked(State(configuredVersion: settings.protocolVersion.firstVersion))
    }

    struct State {
        var phase = LifecyclePhase.idle
        var connected = false
        var negotiatedVersion: Int?
        /// The protocol level libmosquitto is set to (properties are sent only with 5).
        var configuredVersion: Int
        var startWaiter: CheckedContinuation<StartOutcome, Never>?
        /// Why the last attempt failed (for the start timeout's error).
        var lastProblem: String?
        var acks: [Int32: AckEntry] = [:]
        var batches: [UInt64: PublishBatch] = [:]
        var subacks: [Int32: SubackEntry] = [:]
        var subscriptions: [UInt64: Subscription] = [:]
        /// The first CONNACK's session-present flag: whether the broker kept this client's session.
        var sessionPresentAtStart: Bool?
        var eventSinks: [UInt64: AsyncStream<MQTTConnectionEvent>.Continuation] = [:]
        var nextID: UInt64 = 0
        /// Since when the connection is down (nil while connected); read by the supervisor.
        var downSince: ContinuousClock.Instant?
        var supervisor: Task<Void, Never>?
        /// When the current connection was accepted, and how many connections in a row the broker
        /// closed right after accepting them (MQTT 3.1.1's only trace of a client-id takeover).
        var connectedAt: ContinuousClock.Instant?
        var quickDrops = 0

        mutating func makeID() -> UInt64 {
            nextID += 1
            return nextID
        }
    }

    enum StartOutcome {
        case connected
        case fallback(to: Int)
        case failed(MQTTError)
    }

    /// What is known about one message id: acknowledged before its publisher registered it (libmosquitto may call
    /// on_publish on its thread before `mosquitto_publish` returns), or awaited by a batch.
    enum AckEntry {
        case acked(reason: Int)
        case waiting(batch: UInt64, topic: String)
    }

    struct PublishBatch {
        var outstanding = 0
        var resumeAtMost = 0
        var waiter: CheckedContinuation<Result<Void, MQTTError>, Never>?
        var failure: MQTTError?
    }

    enum SubackEntry {
        case acked([Int])
        case waiting(CheckedContinuation<Result<[Int], MQTTError>, Never>)
    }

    /// One stream for several filters keeps their messages in the order the broker sent them.
    struct Subscription {
        var filters: [String]
        var qos: Int
        var continuation: AsyncStream<MQTTMessage>.Continuation
        /// Registered before `start` (`subscribeAtStart`): subscribed at the next connect even when the
        /// broker kept the session, whose subscriptions may be an older version's.
        var subscribeAtConnect = false
    }
}

// MARK: - Callbacks (libmosquitto's network thread)

extension MQTTClientCore {
    func handleConnect(mosq: OpaquePointer, code: Int, flags: Int) {
        let sessionPresent = flags & 1 != 0
        if code == 0 {
            let (waiter, sinks, resubscribe, version) = state.withLock {
                s -> (
                    CheckedContinuation<StartOutcome, Never>?, [AsyncStream<MQTTConnectionEvent>.Continuation],
                    [(String, Int)], Int
                ) in
                s.connected = true
                s.connectedAt = .now
                s.downSince = nil
                s.negotiatedVersion = s.configuredVersion
                s.lastProblem = nil
                let waiter = s.startWaiter
                s.startWaiter = nil
                if s.sessionPresentAtStart == nil { s.sessionPresentAtStart = sessionPresent }
                let resubscribe = s.subscriptions.values.filter { !sessionPresent || $0.subscribeAtConnect }
                    .flatMap { sub in sub.filters.map { ($0, sub.qos) } }
                for id in s.subscriptions.keys { s.subscriptions[id]?.subscribeAtConnect = false }
                return (waiter, Array(s.eventSinks.values), resubscribe, s.configuredVersion)
            }
            logger.info(
                "MQTT connected",
                metadata: [
                    "broker": "\(settings.host):\(settings.port)", "protocol": "\(version == 5 ? "5" : "3.1.1")",
                    "session_present": "\(sessionPresent)",
                ])
            for (filter, qos) in resubscribe {
                var mid: Int32 = 0
                let rc = mosquitto_subscribe_v5(mosq, &mid, filter, Int32(qos), 0, nil)
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    logger.warning(
                        "MQTT re-subscribe failed",
                        metadata: ["filter": "\(filter)", "error": "\(MosquittoText.error(rc))"])
                }
            }
            waiter?.resume(returning: .connected)
            for sink in sinks { sink.yield(.connected(protocolVersion: version, sessionPresent: sessionPresent)) }
            return
        }

        let (attempted, waiter) = state.withLock { s in
            let attempted = s.configuredVersion
            s.lastProblem = "refused: \(attempted == 5 ? MosquittoText.reason(code) : MosquittoText.connack(code))"
            let waiter = s.startWaiter
            s.startWaiter = nil
            return (attempted, waiter)
        }
        let fallback = settings.protocolVersion.fallbackVersion(afterRefusalOf: attempted, code: code)
        let refusal = MQTTError.connectionRefused(
            host: settings.host, port: settings.port, MQTTConnectRefusal(code: code, protocolVersion: attempted))
        if let waiter {
            waiter.resume(returning: fallback.map { .fallback(to: $0) } ?? .failed(refusal))
        } else if let fallback {
            // After start: the broker was replaced by one without MQTT 5; the network thread retries with 3.1.1.
            state.withLock { $0.configuredVersion = fallback }
            mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, Int32(fallback))
            logger.warning("MQTT broker refused MQTT 5; reconnecting with 3.1.1")
        } else {
            logger.error("MQTT connection refused; retrying with backoff", metadata: ["error": "\(refusal)"])
        }
    }

    /// A connection the broker closes sooner than this after accepting it counts as a quick drop.
    static let quickDropLimit: Duration = .seconds(30)
    /// Quick drops in a row after which a takeover by another client is named as the likely cause.
    static let quickDropsForTakeover = 2

    func handleDisconnect(code: Int) {
        let connectionLost = code == Int(MOSQ_ERR_CONN_LOST.rawValue)
        // A TLS failure ends libmosquitto's network thread (it is not retried): end a waiting start with it.
        let tlsFailure = code == Int(MOSQ_ERR_TLS.rawValue)
        let (wasConnected, sinks, subacks, starting, quickDrops) = state.withLock { s in
            let wasConnected = s.connected
            if wasConnected, let since = s.connectedAt {
                let quick = connectionLost && ContinuousClock.now - since < Self.quickDropLimit
                s.quickDrops = quick ? s.quickDrops + 1 : 0
            }
            s.connectedAt = nil
            s.connected = false
            if s.downSince == nil { s.downSince = .now }
            let starting = tlsFailure ? s.startWaiter : nil
            if tlsFailure { s.startWaiter = nil }
            var waiting: [CheckedContinuation<Result<[Int], MQTTError>, Never>] = []
            for (mid, entry) in s.subacks {
                if case .waiting(let continuation) = entry {
                    waiting.append(continuation)
                    s.subacks[mid] = nil
                }
            }
            return (wasConnected, Array(s.eventSinks.values), waiting, starting, s.quickDrops)
        }
        let reason = disconnectReason(code: code, quickDrops: quickDrops)
        state.withLock { $0.lastProblem = reason }
        starting?.resume(returning: .failed(Self.tlsHandshakeFailure(settings)))
        for waiter in subacks { waiter.resume(returning: .failure(.notConnected)) }
        guard wasConnected else { return }
        if code == 0 {
            logger.info("MQTT disconnected", metadata: ["reason": "\(reason)"])
        } else {
            logger.warning("MQTT connection lost; reconnecting with backoff", metadata: ["reason": "\(reason)"])
        }
        for sink in sinks { sink.yield(.disconnected(reason: reason)) }
    }

    /// Why the connection ended, in words a user can act on. Two agents (or an agent and another
    /// program) with the same client id take the session from each other in turn: MQTT 5 says so
    /// (DISCONNECT reason 0x8E), MQTT 3.1.1 only closes the connection, right after it was accepted.
    func disconnectReason(code: Int, quickDrops: Int) -> String {
        let clientID = "client id \"\(settings.clientID)\""
        if code == 0 { return "disconnected by this client" }
        if code == 0x8E {
            return "another client with the same \(clientID) took the session (MQTT 5 reason code 0x8E, session taken "
                + "over); give each client on the broker its own [mqtt] client_id"
        }
        if code >= 128 { return "broker sent DISCONNECT: \(MosquittoText.reason(code))" }
        let text = MosquittoText.error(Int32(code))
        guard code == Int(MOSQ_ERR_CONN_LOST.rawValue), quickDrops >= Self.quickDropsForTakeover else { return text }
        return "\(text) The broker closed the connection right after accepting it, \(quickDrops) times in a row: most "
            + "likely another client with the same \(clientID) takes the session each time it connects (MQTT 3.1.1, "
            + "and brokers such as mosquitto 2.0.11 with MQTT 5 too, do not say why); give each client on the broker "
            + "its own [mqtt] client_id, or see the broker's log"
    }

    static func tlsHandshakeFailure(_ settings: MQTTSettings, detail: String? = nil) -> MQTTError {
        .tls(
            "the TLS handshake with \(settings.host):\(settings.port) failed"
                + (detail.map { " (\($0))" } ?? "")
                + ": the broker's certificate is not signed by the CA file, does not name this host, "
                + "or the port is not a TLS listener")
    }

    /// libmosquitto's log line. An OpenSSL error during a start ends it: libmosquitto's thread gives up after a
    /// failed handshake without calling back.
    func handleLog(_ text: String, isError: Bool) {
        logger.trace("libmosquitto: \(text)")
        guard isError else { return }
        let isTLS = text.contains("OpenSSL") || text.contains("TLS")
        let waiter = state.withLock { s in
            s.lastProblem = text
            guard isTLS, settings.tls != nil else { return nil as CheckedContinuation<StartOutcome, Never>? }
            defer { s.startWaiter = nil }
            return s.startWaiter
        }
        let detail = text.split(separator: "::").last.map(String.init) ?? text
        waiter?.resume(returning: .failed(Self.tlsHandshakeFailure(settings, detail: detail)))
        if waiter == nil { logger.debug("libmosquitto error", metadata: ["message": "\(text)"]) }
    }

    func handleAck(mid: Int32, reason: Int) {
        let resume: (CheckedContinuation<Result<Void, MQTTError>, Never>, Result<Void, MQTTError>)? = state.withLock {
            s in
            guard case .waiting(let batchID, let topic)? = s.acks.removeValue(forKey: mid) else {
                s.acks[mid] = .acked(reason: reason)  // before its publisher registered it
                return nil
            }
            guard var batch = s.batches[batchID] else { return nil }  // publisher gave up (cancelled)
            defer { s.batches[batchID] = batch }
            return Self.account(ack: reason, topic: topic, in: &batch)
        }
        resume?.0.resume(returning: resume!.1)
    }

    /// One acknowledgement counted into a batch; returns the waiter to resume, if it is due.
    static func account(ack reason: Int, topic: String, in batch: inout PublishBatch) -> (
        CheckedContinuation<Result<Void, MQTTError>, Never>, Result<Void, MQTTError>
    )? {
        batch.outstanding -= 1
        if reason >= 128, batch.failure == nil {
            batch.failure = .publishFailed(
                topic: topic, detail: "the broker refused it: \(MosquittoText.reason(reason)) (reason code \(reason))")
        }
        guard let waiter = batch.waiter, batch.failure != nil || batch.outstanding <= batch.resumeAtMost else {
            return nil
        }
        batch.waiter = nil
        return (waiter, batch.failure.map { .failure($0) } ?? .success(()))
    }

    func handleMessage(_ message: MQTTMessage) {
        let targets = state.withLock { s in
            s.subscriptions.values.filter { $0.filters.contains { Self.matches(filter: $0, topic: message.topic) } }
                .map(\.continuation)
        }
        for target in targets { target.yield(message) }
    }

    static func matches(filter: String, topic: String) -> Bool {
        var result = false
        return mosquitto_topic_matches_sub(filter, topic, &result) == MOSQ_ERR_SUCCESS.rawValue && result
    }

    func handleSuback(mid: Int32, granted: [Int]) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<[Int], MQTTError>, Never>? in
            guard case .waiting(let continuation)? = s.subacks.removeValue(forKey: mid) else {
                s.subacks[mid] = .acked(granted)
                return nil
            }
            return continuation
        }
        waiter?.resume(returning: .success(granted))
    }
}
