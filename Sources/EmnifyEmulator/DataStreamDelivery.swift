import EmnifyAPI

/// Delivers one data stream: batches of up to `size` pending events, one request at a time,
/// through libcurl (`CurlTransport`, TLS always verified). A batch leaves `pending` only when the
/// receiver answered 2xx; a non-2xx answer, connection error or timeout is retried after a
/// backoff doubling from `retryInitial` to `retryMaximum`, for ever (at least once, never
/// dropped). Faults: an acknowledged batch is sent once more with `duplicateRate`, and `reorder`
/// shuffles each batch.
struct DataStreamDelivery: Sendable {
    let state: EmulatorState
    let id: Int
    let request: DataStreamRequest
    let transport: CurlTransport

    init(state: EmulatorState, id: Int, request: DataStreamRequest) throws {
        self.state = state
        self.id = id
        self.request = request
        transport = try CurlTransport(
            settings: .init(
                userAgent: "emnify-emulator-data-streamer", caFile: request.caFile,
                connectTimeout: min(request.timeout, .seconds(10)), totalTimeout: request.timeout,
                maxResponseSize: 1 << 20))
    }

    private struct Batch {
        var ids: [Int64]
        var bodies: [String]
        var isResend: Bool
    }

    func run() async {
        var random = SeededRandom(seed: state.configuration.seed ^ (0xDA7A_0000 &+ UInt64(id)))
        var backoff = request.retryInitial
        // An acknowledged batch that the duplicate fault sends once more.
        var resend: [Int64]?
        while !Task.isCancelled, !state.isStopping {
            guard let next = take(resend: resend) else { return }
            guard var batch = next else {
                await pause(idle: true)
                continue
            }
            if request.reorder { batch.bodies.shuffle(using: &random) }
            let body = request.size == 1 ? batch.bodies[0] : "[" + batch.bodies.joined(separator: ",") + "]"
            let method: HTTPRequest.Method =
                switch request.method {
                case .post: .post
                case .put: .put
                case .patch: .patch
                }
            var outcome: (status: Int?, error: String?)
            do {
                let response = try await transport.send(
                    HTTPRequest(method: method, url: request.url, headers: request.headers, body: Array(body.utf8)))
                outcome = (response.status, (200..<300).contains(response.status) ? nil : "HTTP \(response.status)")
            } catch {
                outcome = (nil, Self.describe(error))
            }
            let acknowledged = outcome.error == nil
            let exists = state.withLock { inner -> Bool in
                guard var stream = inner.streams[id] else { return false }
                stream.requests += 1
                if stream.failing { stream.retries += 1 }
                stream.lastStatus = outcome.status
                if acknowledged {
                    stream.failing = false
                    if batch.isResend {
                        stream.duplicates += batch.ids.count
                    } else {
                        // The batch is the prefix of `pending` (only appended to since it was taken).
                        stream.pending.removeFirst(min(batch.ids.count, stream.pending.count))
                        stream.delivered += batch.ids.count
                    }
                } else {
                    stream.failing = true
                    stream.failures += 1
                    stream.lastError = outcome.error
                }
                inner.streams[id] = stream
                return true
            }
            guard exists else { return }
            if acknowledged {
                backoff = request.retryInitial
                resend =
                    !batch.isResend && request.duplicateRate > 0 && random.chance(request.duplicateRate)
                    ? batch.ids : nil
                await pause(idle: false)
            } else {
                await sleep(backoff)
                backoff = min(backoff * 2, request.retryMaximum)
            }
        }
    }

    /// The next batch (nil inside: nothing to send or paused; nil: the stream is gone). New
    /// journal entries are taken into `pending` here, also while paused (a paused stream keeps
    /// its records and delivers them on restart). Rendering happens outside the lock.
    private func take(resend: [Int64]?) -> Batch?? {
        let taken = state.withLock { inner -> (ids: [Int64], events: [StoredEvent], fleet: Fleet, resend: Bool)?? in
            guard var stream = inner.streams[id] else { return .none }
            stream.takeNew(from: inner.store)
            inner.streams[id] = stream
            let oldest = inner.streams.values.map(\.journalPosition).min()
            inner.store.trimJournal(before: oldest ?? inner.store.journalEnd)
            guard !stream.paused else { return .some(nil) }
            let ids = resend ?? Array(stream.pending.prefix(request.size))
            guard !ids.isEmpty else { return .some(nil) }
            return (ids, ids.compactMap { inner.store.event(id: $0) }, inner.fleet, resend != nil)
        }
        guard let taken else { return .none }
        guard let taken else { return .some(nil) }
        let seed = state.configuration.seed
        // An event cleared from the store meanwhile is not sent (and counts as delivered).
        let bodies = taken.events.map { $0.json(identity: taken.fleet.member(Int($0.simIndex)), seed: seed) }
        guard !bodies.isEmpty else { return .some(Batch(ids: taken.ids, bodies: ["[]"], isResend: taken.resend)) }
        return .some(Batch(ids: taken.ids, bodies: bodies, isResend: taken.resend))
    }

    /// The transport's error in the receiver's terms (its own wording speaks of the emnify API).
    static func describe(_ error: TransportError) -> String {
        switch error {
        case .couldNotResolveHost(let detail): "cannot resolve the receiver's host (\(detail))"
        case .couldNotConnect(let detail): "cannot connect to the receiver (\(detail))"
        case .timedOut(let detail): "the receiver did not answer within timeout_ms (\(detail))"
        case .tlsVerificationFailed(let detail):
            "the receiver's TLS certificate was not trusted (\(detail)): give its CA as ca_file"
        case .tlsHandshakeFailed(let detail): "TLS handshake with the receiver failed (\(detail))"
        case .connectionBroken(let detail), .truncatedBody(let detail):
            "the connection to the receiver broke (\(detail))"
        default: "\(error)"
        }
    }

    /// Waits `interval` after a request (or a short poll when idle).
    private func pause(idle: Bool) async {
        let poll = Duration.milliseconds(50)
        await sleep(idle ? min(max(request.interval, .milliseconds(5)), poll) : request.interval)
    }

    /// Sleeps in short slices, ending early when the stream is deleted, restarted or the emulator stops.
    private func sleep(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline, !Task.isCancelled, !state.isStopping {
            let woken = state.withLock { inner -> Bool in
                guard var stream = inner.streams[id] else { return true }
                if stream.wake {
                    stream.wake = false
                    inner.streams[id] = stream
                    return true
                }
                return false
            }
            if woken { return }
            try? await Task.sleep(for: min(.milliseconds(50), deadline - ContinuousClock.now))
        }
    }
}
