import EdgeCommon
import Logging

/// An MQTT connection to one of several equivalent brokers (the nodes of a cluster such as NATS JetStream's MQTT
/// listener): it connects to the first host that answers, in order, and when the connection is lost and does not
/// come back within `failoverAfter`, moves to the next host, round-robin. libmosquitto alone would retry the dead
/// host forever.
///
/// It owns one `MQTTConnection` at a time and replaces it on failover; each keeps its own reconnect backoff, so a
/// short drop is ridden out on the same host.
///
/// No message is lost on failover: `publish` and `acknowledgement(of:)` return only after every message of the
/// call was acknowledged by one host. Messages whose PUBACKs had not all come when the host was given up are
/// **re-sent on the next host, the whole call's batch** (libmosquitto does not say which of them were
/// acknowledged): around a failover a subscriber may get a message twice, and a re-sent message may arrive after
/// newer ones. Consumers dedupe on the event id (as for the Data Streamer, at least once, unordered).
///
/// Subscriptions are made again on each new host. With `cleanSession: false` the cluster keeps the session (NATS
/// replicates it), and QoS 1 messages it queued may arrive before the subscription is renewed locally: those are
/// acknowledged by libmosquitto but not delivered to the stream. Persistent subscribers that must see every
/// message use an `MQTTConnection` to one host.
public final class MQTTFailoverConnection: Sendable {
    public let hosts: [(host: String, port: Int)]
    /// The settings of every host's connection (their `host` and `port` are replaced by each host's).
    public let settings: MQTTSettings
    /// How long a lost connection may stay down before the next host is tried.
    public let failoverAfter: Duration
    /// How long each host has to answer a connect (CONNACK) during `start` and a failover. NATS answers only once
    /// JetStream has leaders again: right after a node died, the survivors took 3-10 s here.
    public let connectTimeout: Duration
    let logger: Logger
    let state = Locked(State())

    struct State {
        var phase = LifecyclePhase.idle
        /// The current host's connection; nil while a failover looks for the next host.
        var link: Link?
        var generation: UInt64 = 0
        var subscriptions: [UInt64: Subscription] = [:]
        var eventSinks: [UInt64: AsyncStream<MQTTHostEvent>.Continuation] = [:]
        /// The current link's event watcher and, while one runs, the failover.
        var watcher: Task<Void, Never>?
        var failover: Task<Void, Never>?
        var nextID: UInt64 = 0

        mutating func makeID() -> UInt64 {
            nextID += 1
            return nextID
        }
    }

    /// One host's connection; `generation` grows with every replacement.
    struct Link: Sendable {
        let connection: MQTTConnection
        let hostIndex: Int
        let generation: UInt64
    }

    struct Subscription {
        var filter: String
        var qos: Int
        var continuation: AsyncStream<MQTTMessage>.Continuation
        /// The link generation whose messages are forwarded (0: none yet), and the task forwarding them.
        var generation: UInt64 = 0
        var pump: Task<Void, Never>?
    }

    /// `hosts` in the order to try them (at least one); `settings.host`/`port` are ignored.
    public init(
        hosts: [(host: String, port: Int)], settings: MQTTSettings, failoverAfter: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(10), logger: Logger
    ) throws(MQTTError) {
        guard !hosts.isEmpty else { throw .invalidSettings("[mqtt] hosts is empty: name at least one broker") }
        guard failoverAfter >= .seconds(1), connectTimeout >= .seconds(1) else {
            throw .invalidSettings("the failover delay and the connect timeout must be at least 1s")
        }
        for (host, port) in hosts {
            var one = settings
            one.host = host
            one.port = port
            try one.validated()
        }
        self.hosts = hosts
        self.settings = settings
        self.failoverAfter = failoverAfter
        self.connectTimeout = connectTimeout
        self.logger = logger
    }

    public var isConnected: Bool { state.withLock { $0.link }?.connection.isConnected ?? false }

    /// The host of the current connection (connected or reconnecting); nil before `start` and during a failover.
    public var currentHost: (host: String, port: Int)? {
        state.withLock { $0.link }.map { hosts[$0.hostIndex] }
    }

    /// 5 or 4 (3.1.1) once connected.
    public var negotiatedProtocolVersion: Int? { state.withLock { $0.link }?.connection.negotiatedProtocolVersion }

    /// A new stream of every connect and disconnect, with the host it concerns, from now on (each access makes a
    /// new subscriber; the stream ends at `stop`). After a `.connected`, re-publish retained topics.
    public var connectionEvents: AsyncStream<MQTTHostEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: MQTTHostEvent.self, bufferingPolicy: .bufferingNewest(256))
        let finished = state.withLock { s -> Bool in
            if s.phase == .stopped { return true }
            let id = s.makeID()
            s.eventSinks[id] = continuation
            continuation.onTermination = { [state] _ in state.withLock { _ = $0.eventSinks.removeValue(forKey: id) } }
            return false
        }
        if finished { continuation.finish() }
        return stream
    }

    func describe(_ index: Int) -> String { "\(hosts[index].host):\(hosts[index].port)" }
}

/// A connection event of one host of an `MQTTFailoverConnection`.
public struct MQTTHostEvent: Sendable {
    public let host: String
    public let port: Int
    public let event: MQTTConnectionEvent
}

// MARK: - Start, failover, stop

extension MQTTFailoverConnection {
    /// Connects to the first host that accepts within `connectTimeout`, in order, round-robin until `timeout`.
    /// Throws at once what no other host would change (bad credentials, not authorized, a TLS or settings
    /// problem); otherwise `.brokerUnreachable` naming the last host tried, when `timeout` passed.
    public func start(timeout: Duration) async throws(MQTTError) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        guard try state.withLock({ s throws(MQTTError) in try s.phase.beginStart() }) else { return }
        var index = 0
        var lastError = MQTTError.brokerUnreachable(host: hosts[0].host, port: hosts[0].port, detail: "not tried")
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.phase != .starting }) { throw .stopped }
            let remaining = ContinuousClock.now.duration(to: deadline)
            do throws(MQTTError) {
                let (connection, events) = try await connect(index, timeout: min(connectTimeout, remaining))
                let installed = install(connection, events: events, hostIndex: index, from: [.starting])
                if !installed {
                    await connection.stop(timeout: .zero)
                    throw MQTTError.stopped
                }
                return
            } catch {
                if Self.isFinal(error) {
                    state.withLock { s in if s.phase == .starting { s.phase = .idle } }
                    throw error
                }
                lastError = error
                logger.warning(
                    "MQTT host did not accept a connection; trying the next",
                    metadata: ["broker": "\(describe(index))", "error": "\(error)"])
                index = (index + 1) % hosts.count
            }
        }
        state.withLock { s in if s.phase == .starting { s.phase = .idle } }
        throw lastError
    }

    /// Errors another host would not change, or that end the attempt (stop, cancellation).
    static func isFinal(_ error: MQTTError) -> Bool {
        switch error {
        case .brokerUnreachable: return false
        case .connectionRefused(_, _, let refusal):
            // A node shutting down or not ready yet says "server unavailable"; the others are the client's.
            return refusal != .serverUnavailable
        default: return true
        }
    }

    /// A started connection to `hosts[index]`, with its event stream from before the first CONNACK.
    private func connect(_ index: Int, timeout: Duration) async throws(MQTTError) -> (
        MQTTConnection, AsyncStream<MQTTConnectionEvent>
    ) {
        var one = settings
        one.host = hosts[index].host
        one.port = hosts[index].port
        let connection = try MQTTConnection(settings: one, logger: logger)
        let events = connection.connectionEvents
        try await connection.start(timeout: timeout)
        return (connection, events)
    }

    /// Makes `connection` the current link if the phase is one of `phases` (then `.running`); renews the
    /// subscriptions on it and watches its events. Returns false (installing nothing) otherwise.
    private func install(
        _ connection: MQTTConnection, events: AsyncStream<MQTTConnectionEvent>, hostIndex: Int,
        from phases: [LifecyclePhase]
    ) -> Bool {
        let link = state.withLock { s -> Link? in
            guard phases.contains(s.phase) else { return nil }
            s.phase = .running
            s.generation += 1
            let link = Link(connection: connection, hostIndex: hostIndex, generation: s.generation)
            s.link = link
            return link
        }
        guard let link else { return false }
        let watcher = Task { [weak self] () -> Void in await self?.watch(link, events: events) }
        state.withLock { $0.watcher = watcher }
        let renew = state.withLock { s in
            s.subscriptions.compactMap { $0.value.generation < link.generation ? $0 : nil }
        }
        if !renew.isEmpty {
            Task { [weak self] in
                for (id, subscription) in renew {
                    await self?.renew(id, filter: subscription.filter, qos: subscription.qos, on: link)
                }
            }
        }
        return true
    }

    /// Forwards the link's events; a disconnect not followed by a reconnect within `failoverAfter` fails over.
    private func watch(_ link: Link, events: AsyncStream<MQTTConnectionEvent>) async {
        let host = hosts[link.hostIndex]
        var timer: Task<Void, Never>?
        for await event in events {
            let sinks = state.withLock { Array($0.eventSinks.values) }
            for sink in sinks { sink.yield(MQTTHostEvent(host: host.host, port: host.port, event: event)) }
            switch event {
            case .connected:
                timer?.cancel()
                timer = nil
            case .disconnected:
                guard timer == nil else { continue }
                timer = Task { [weak self, failoverAfter] in
                    guard (try? await Task.sleep(for: failoverAfter)) != nil, let self else { return }
                    if !link.connection.isConnected { self.beginFailover(from: link) }
                }
            }
        }
        timer?.cancel()
    }

    /// Gives up `link`'s host (once, while running) and looks for the next one in a task of its own.
    private func beginFailover(from link: Link) {
        let started = state.withLock { s -> Bool in
            guard s.phase == .running, s.link?.generation == link.generation else { return false }
            s.link = nil
            s.failover = Task { [weak self] () -> Void in await self?.failOver(from: link) }
            return true
        }
        guard started else { return }
        logger.warning(
            "MQTT host did not come back; failing over to the next host",
            metadata: ["broker": "\(describe(link.hostIndex))", "after": "\(failoverAfter)"])
    }

    private func failOver(from link: Link) async {
        // Its unacknowledged publishes end with `.stopped`; their callers re-send them on the next link.
        await link.connection.stop(timeout: .zero)
        let first = (link.hostIndex + 1) % hosts.count
        var index = first
        var pause = settings.reconnectDelay.min
        while !Task.isCancelled && state.withLock({ $0.phase == .running }) {
            do throws(MQTTError) {
                let (connection, events) = try await connect(index, timeout: connectTimeout)
                if !install(connection, events: events, hostIndex: index, from: [.running]) {
                    await connection.stop(timeout: .zero)  // stopped meanwhile
                }
                logger.notice("MQTT failed over", metadata: ["broker": "\(describe(index))"])
                return
            } catch {
                logger.warning(
                    "MQTT failover: host did not accept a connection",
                    metadata: ["broker": "\(describe(index))", "error": "\(error)"])
            }
            index = (index + 1) % hosts.count
            if index == first {  // a whole round failed: back off before the next
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, settings.reconnectDelay.max)
            }
        }
    }

    /// Waits (at most `timeout`) until the current host acknowledged every publish, sends DISCONNECT (no will) and
    /// stops. Publishes still waiting, or waiting for a host, then throw `.stopped`.
    public func stop(timeout: Duration) async {
        guard state.withLock({ $0.phase.beginStop() }) else { return }
        let (link, failover) = state.withLock { s in (s.link, s.failover) }
        failover?.cancel()
        await failover?.value
        // A failover that connected before it saw the stop installs nothing (the phase is not `.running`).
        if let link { await link.connection.stop(timeout: timeout) }
        let (watcher, sinks, subscriptions) = state.withLock { s in
            s.phase = .stopped
            s.link = nil
            defer {
                s.eventSinks = [:]
                s.subscriptions = [:]
            }
            return (s.watcher, Array(s.eventSinks.values), Array(s.subscriptions.values))
        }
        watcher?.cancel()
        for sink in sinks { sink.finish() }
        for subscription in subscriptions {
            subscription.pump?.cancel()
            subscription.continuation.finish()
        }
    }
}
