import CMosquitto
import EdgeCommon
import Glibc
import Logging
import Synchronization

/// One connection to an MQTT broker through libmosquitto, with its own network thread (`mosquitto_loop_start`)
/// that reconnects with exponential backoff and re-sends unacknowledged QoS 1 messages after a reconnect.
///
/// Call `start` once, then `publish`/`subscribe` from any task; call `stop` at the end.
public final class MQTTConnection: Sendable {
    public let settings: MQTTSettings
    let core: MQTTClientCore
    let handle: MosquittoHandle

    public init(settings: MQTTSettings, logger: Logger) throws(MQTTError) {
        try settings.validated()
        self.settings = settings
        self.core = MQTTClientCore(settings: settings, logger: logger)
        self.handle = try MosquittoHandle(settings: settings, core: core)
        try handle.configure(settings)
    }

    var logger: Logger { core.logger }

    public var isConnected: Bool { core.state.withLock { $0.connected } }

    /// 5 or 4 (3.1.1) once connected; nil before the first CONNACK.
    public var negotiatedProtocolVersion: Int? { core.state.withLock { $0.negotiatedVersion } }

    /// A new stream of every connect and disconnect from now on (each access makes a new subscriber; the stream
    /// ends at `stop`). After `.connected` following a `.disconnected`, re-publish retained topics.
    public var connectionEvents: AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: MQTTConnectionEvent.self, bufferingPolicy: .bufferingNewest(256))
        let finished = core.state.withLock { s -> Bool in
            if s.phase == .stopped { return true }
            let id = s.makeID()
            s.eventSinks[id] = continuation
            continuation.onTermination = { [core] _ in core.state.withLock { _ = $0.eventSinks.removeValue(forKey: id) }
            }
            return false
        }
        if finished { continuation.finish() }
        return stream
    }
}

// MARK: - Start and stop

extension MQTTConnection {
    /// Connects (asynchronous connect + `mosquitto_loop_start`) and returns after the first accepted CONNACK.
    /// Throws `.brokerUnreachable` when no CONNACK came within `timeout` (libmosquitto retried meanwhile),
    /// `.connectionRefused` at once when the broker refused (bad credentials, not authorized, protocol);
    /// with `.auto`, a refusal of MQTT 5 is retried with 3.1.1 first. After a throw the network thread is stopped.
    public func start(timeout: Duration) async throws(MQTTError) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        guard try core.state.withLock({ s throws(MQTTError) in try s.phase.beginStart() }) else { return }

        var version = settings.protocolVersion.firstVersion
        while true {
            let outcome: MQTTClientCore.StartOutcome
            do throws(MQTTError) {
                try handle.prepare(
                    protocolVersion: version, will: settings.will,
                    sessionExpiry: settings.cleanSession ? nil : settings.sessionExpiry)
                outcome = await attemptConnect(version: version, deadline: deadline)
            } catch {
                outcome = .failed(error)
            }
            switch outcome {
            case .connected:
                let supervise = core.state.withLock { s in
                    guard s.phase == .starting else { return false }
                    s.phase = .running
                    return true
                }
                if supervise { startSupervisor() }
                return
            case .fallback(let next):
                logger.notice("MQTT broker does not speak MQTT 5; falling back to 3.1.1")
                await halt()
                version = next
            case .failed(let error):
                await halt()
                core.state.withLock { s in
                    if s.phase == .starting {
                        s.phase = .idle
                        s.connected = false
                    }
                }
                logger.error("MQTT start failed", metadata: ["error": "\(error)"])
                throw error
            }
        }
    }

    /// One connect attempt, ended by the first CONNACK, the deadline or cancellation.
    private func attemptConnect(version: Int, deadline: ContinuousClock.Instant) async -> MQTTClientCore.StartOutcome {
        let core = self.core
        let settings = self.settings
        let timer = Task {
            // Cancelled once the attempt ended: it must not touch the next attempt's waiter.
            guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
            let waiter = core.state.withLock { s in
                defer { s.startWaiter = nil }
                return (s.startWaiter, s.lastProblem)
            }
            let detail = "no CONNACK within the start timeout" + (waiter.1.map { "; last problem: \($0)" } ?? "")
            waiter.0?.resume(
                returning: .failed(.brokerUnreachable(host: settings.host, port: settings.port, detail: detail)))
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<MQTTClientCore.StartOutcome, Never>) in
                let cancelled = core.state.withLock { s in
                    s.configuredVersion = version
                    s.lastProblem = nil
                    if Task.isCancelled { return true }
                    s.startWaiter = continuation
                    return false
                }
                if cancelled { return continuation.resume(returning: .failed(.cancelled)) }
                // connect_async resolves the host name (blocking): on the blocking executor, which starts
                // another thread rather than wait when a look-up hangs.
                let handle = self.handle
                BlockingExecutor.shared.execute { Self.connectAndLoop(handle: handle, core: core, settings: settings) }
            }
        } onCancel: {
            let waiter = core.state.withLock { s in
                defer { s.startWaiter = nil }
                return s.startWaiter
            }
            waiter?.resume(returning: .failed(.cancelled))
        }
    }

    /// Starts the TCP connect and the network thread; a failure that libmosquitto does not retry ends the attempt.
    private static func connectAndLoop(handle: MosquittoHandle, core: MQTTClientCore, settings: MQTTSettings) {
        func fail(_ error: MQTTError) {
            let waiter = core.state.withLock { s in
                defer { s.startWaiter = nil }
                return s.startWaiter
            }
            waiter?.resume(returning: .failed(error))
        }
        // Connect here, retrying with backoff while the start waits: after an earlier DISCONNECT (a failed start,
        // the fallback) libmosquitto's thread would end at once instead of retrying a failed TCP connect.
        var delay = settings.reconnectDelay.min
        while true {
            let rc = handle.connectAsync(settings)
            if rc == MOSQ_ERR_SUCCESS.rawValue { break }
            let problem = MosquittoText.error(rc)
            let waiting = core.state.withLock { s in
                s.lastProblem = problem
                return s.startWaiter != nil
            }
            if !waiting { return }
            if rc == MOSQ_ERR_TLS.rawValue { return fail(MQTTClientCore.tlsHandshakeFailure(settings)) }
            if rc == MOSQ_ERR_EAI.rawValue || rc == MOSQ_ERR_INVAL.rawValue {
                return fail(.brokerUnreachable(host: settings.host, port: settings.port, detail: problem))
            }
            // Connection refused and the like: try again shortly (the start timeout bounds this).
            let nanoseconds = delay.wholeNanoseconds
            var pause = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
            nanosleep(&pause, nil)
            delay = min(delay * 2, settings.reconnectDelay.max)
        }
        let loop = handle.loopStart()
        if loop != MOSQ_ERR_SUCCESS.rawValue {
            fail(.library(call: "mosquitto_loop_start", code: Int(loop), message: MosquittoText.error(loop)))
        }
    }

    /// libmosquitto's network thread ends for good after errors it deems fatal (a TLS failure, a protocol error,
    /// a failed DNS look-up during a reconnect). The supervisor notices a connection that stayed down much longer
    /// than the reconnect backoff and restarts the thread. Queued QoS 1 messages stay in libmosquitto meanwhile.
    private func startSupervisor() {
        let period = settings.reconnectDelay.max + .seconds(10)
        let limit = settings.reconnectDelay.max * 3 + .seconds(30)
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                guard let self, !Task.isCancelled else { return }
                let stale = self.core.state.withLock { s in
                    s.phase == .running && !s.connected && s.downSince.map { .now - $0 > limit } == true
                }
                if stale { await self.restartNetworkThread() }
            }
        }
        core.state.withLock { $0.supervisor = task }
    }

    /// Stops libmosquitto's network thread (whatever its state) and starts a new connect and thread.
    func restartNetworkThread() async {
        logger.warning("MQTT has not reconnected for a long time; restarting libmosquitto's network thread")
        await halt()
        let (version, running) = core.state.withLock { s in
            s.downSince = .now
            return (s.configuredVersion, s.phase == .running)
        }
        guard running else { return }
        do {
            try handle.prepare(
                protocolVersion: version, will: settings.will,
                sessionExpiry: settings.cleanSession ? nil : settings.sessionExpiry)
        } catch {
            logger.error("MQTT restart failed", metadata: ["error": "\(error)"])
        }
        // After a DISCONNECT, libmosquitto's thread exits at once unless the TCP connect succeeded first (its
        // state stays "disconnecting"): connect here, with backoff, and start the thread once connected.
        let handle = self.handle
        let settings = self.settings
        var delay = settings.reconnectDelay.min
        while true {
            let rc = await BlockingExecutor.shared.run { handle.connectAsync(settings) }
            if rc == MOSQ_ERR_SUCCESS.rawValue { break }
            logger.debug("MQTT connect failed", metadata: ["error": "\(MosquittoText.error(rc))"])
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, settings.reconnectDelay.max)
            if core.state.withLock({ $0.phase != .running }) { return }
        }
        let rc = handle.loopStart()
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            logger.error("MQTT restart failed", metadata: ["error": "\(MosquittoText.error(rc))"])
        }
        if core.state.withLock({ $0.phase != .running }) { await halt() }  // stop came in meanwhile
    }

    /// DISCONNECT and join the network thread, off the cooperative pool.
    private func halt() async {
        let handle = self.handle
        await BlockingExecutor.shared.run { handle.halt() }
    }

    /// Waits (at most `timeout`) until every publish has been acknowledged, then sends DISCONNECT (so the broker
    /// does not publish the will) and stops the network thread. Publishes still waiting then throw `.stopped`.
    public func stop(timeout: Duration) async {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        guard core.state.withLock({ $0.phase.beginStop() }) else { return }
        core.state.withLock { $0.supervisor?.cancel() }
        // A start still waiting for its CONNACK ends now.
        let starting = core.state.withLock { s in
            defer { s.startWaiter = nil }
            return s.startWaiter
        }
        starting?.resume(returning: .failed(.stopped))
        while ContinuousClock.now < deadline {
            let busy = core.state.withLock { s in s.batches.values.contains { $0.outstanding > 0 } }
            if !busy { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        await halt()
        let (batches, sinks, subscriptions, subacks) = core.state.withLock { s in
            s.phase = .stopped
            s.connected = false
            let batches = s.batches.values.compactMap(\.waiter)
            for id in s.batches.keys {
                s.batches[id]?.waiter = nil
                s.batches[id]?.failure = .stopped
            }
            let subacks = s.subacks.values.compactMap {
                entry -> CheckedContinuation<Result<[Int], MQTTError>, Never>? in
                if case .waiting(let c) = entry { return c } else { return nil }
            }
            s.subacks = [:]
            defer {
                s.eventSinks = [:]
                s.subscriptions = [:]
            }
            return (batches, Array(s.eventSinks.values), s.subscriptions.values.map(\.continuation), subacks)
        }
        for waiter in batches { waiter.resume(returning: .failure(.stopped)) }
        for waiter in subacks { waiter.resume(returning: .failure(.stopped)) }
        for sink in sinks { sink.finish() }
        for subscription in subscriptions { subscription.finish() }
        logger.info("MQTT stopped")
    }
}
