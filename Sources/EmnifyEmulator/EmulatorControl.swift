import FoundationEssentials

/// The in-process control interface (the HTTP one under `/_emulator/` calls the same methods).
public struct EmulatorControl: Sendable {
    let state: EmulatorState

    /// Adds `count` events of `kind`, stamped `timestamp` (nil = now; a past time makes a
    /// *late* event: old timestamp, new and highest id), for fleet member `sim` (`Fleet.member`;
    /// organisation and user kinds name none). Returns the new ids.
    @discardableResult
    public func inject(
        _ kind: EventKind, count: Int = 1, timestamp: Date? = nil, source: EventSource? = nil, sim: Int = 0
    ) async -> [Int64] {
        let millis = timestamp.map { Int64($0.timeIntervalSince1970 * 1000) } ?? EmulatorState.nowMillis
        return state.withLock { inner in
            let sim = min(max(0, sim), inner.fleet.count - 1)
            return (0..<max(0, count)).map { _ in inner.store.append(kind, at: millis, source: source, sim: sim) }
        }
    }

    /// Adds the next `count` events of the built-in generator, stamped now.
    @discardableResult
    public func generate(count: Int = 1) async -> Int {
        let millis = EmulatorState.nowMillis
        return state.withLock { inner in
            for _ in 0..<max(0, count) { inner.store.appendNext(at: millis) }
            return inner.store.events.count
        }
    }

    /// Which SIMs `generate(count:sims:type:)` raises events for.
    public enum SIMChoice: Sendable, Equatable {
        /// A SIM of the fleet picked at random (seeded) for each event.
        case random
        /// These SIM ids in turn.
        case simIDs([Int64])
    }

    /// Adds `count` events for the SIMs `sims` names, stamped now: the generator's next step for
    /// each SIM, or `type` when given. Returns the new ids, oldest first.
    public func generate(count: Int, sims: SIMChoice, type: EventKind? = nil) async throws -> [Int64] {
        try state.withLock { inner in
            let fleet = inner.fleet
            var indices: [Int] = []
            if case .simIDs(let ids) = sims {
                indices = try ids.map { id in
                    guard let index = fleet.index(ofSimID: id) else {
                        throw EmulatorError.invalidEvent("the fleet has no SIM with id \(id) (\(fleet.count) SIMs)")
                    }
                    return index
                }
                guard !indices.isEmpty else { throw EmulatorError.invalidEvent("'sims' names no SIM") }
            }
            let millis = EmulatorState.nowMillis
            return (0..<max(0, count)).map { number in
                let sim = indices.isEmpty ? inner.store.randomSIM(below: fleet.count) : indices[number % indices.count]
                if let type { return inner.store.append(type, at: millis, source: nil, sim: sim) }
                return inner.store.appendNext(at: millis, sim: sim)
            }
        }
    }

    /// Starts raising `count` events at `perSecond` in the background (as `generate`, one at a
    /// time); it ends with the count or when the emulator stops.
    public func generate(count: Int, sims: SIMChoice, type: EventKind? = nil, perSecond: Double) async throws {
        guard perSecond > 0, perSecond <= 100_000 else {
            throw EmulatorError.invalidConfiguration("rate must be more than 0 and at most 100000 events per second")
        }
        _ = try await generate(count: 0, sims: sims, type: type)  // checks the SIM ids now
        let state = self.state
        let control = self
        Task {
            let start = ContinuousClock.now
            let interval = Duration.seconds(1 / perSecond)
            for number in 0..<max(0, count) {
                try? await Task.sleep(until: start + interval * number)
                if state.isStopping { return }
                _ = try? await control.generate(count: 1, sims: sims, type: type)
            }
        }
    }

    /// The organisation's SIMs (`Fleet`): the count, and member `index`.
    public func fleet() async -> Fleet {
        state.withLock { $0.fleet }
    }

    /// Grows the organisation to `count` SIMs (it never shrinks); returns the new count.
    @discardableResult
    public func setSIMCount(_ count: Int) async throws -> Int {
        guard count >= 1, count <= Fleet.maximumCount else {
            throw EmulatorError.invalidConfiguration("the SIM count must be 1...\(Fleet.maximumCount)")
        }
        return try state.withLock { inner in
            guard count >= inner.fleet.count else {
                throw EmulatorError.invalidConfiguration(
                    "the fleet has \(inner.fleet.count) SIMs and does not shrink (events name them)")
            }
            inner.fleet.grow(to: count)
            return inner.fleet.count
        }
    }

    /// Starts a data stream (the Data Streamer stand-in): every event created from now on, and
    /// the stored ones since `backlogSinceMillis`, is delivered to `request.url`. Returns its id.
    @discardableResult
    public func createStream(_ request: DataStreamRequest) async throws -> Int {
        let state = self.state
        let id = state.withLock { inner in
            defer { inner.nextStreamID += 1 }
            return inner.nextStreamID
        }
        let delivery = try DataStreamDelivery(state: state, id: id, request: request)
        state.withLock { inner in
            inner.store.isJournaling = true
            var backlog: [Int64] = []
            if let since = request.backlogSinceMillis {
                // emnify keeps a stream's records for 7 days.
                let oldest = max(since, EmulatorState.nowMillis - 7 * 86_400_000)
                backlog = inner.store.events.filter { $0.timestampMillis >= oldest && request.selection.takes($0) }
                    .map(\.id)
            }
            inner.streams[id] = DataStream(
                id: id, request: request, journalPosition: inner.store.journalEnd, pending: backlog)
            inner.streamTasks[id] = Task { await delivery.run() }
        }
        return id
    }

    /// Every stream's state, by id.
    public func streams() async -> [DataStreamStatus] {
        state.withLock { inner in inner.streams.values.sorted { $0.id < $1.id }.map(\.status) }
    }

    /// Stops and forgets a stream (its pending events with it); false: no such stream.
    @discardableResult
    public func deleteStream(_ id: Int) async -> Bool {
        let task = state.withLock { inner -> Task<Void, Never>?? in
            guard inner.streams.removeValue(forKey: id) != nil else { return .none }
            if inner.streams.isEmpty { inner.store.trimJournal(before: nil) }
            return .some(inner.streamTasks.removeValue(forKey: id))
        }
        guard let task else { return false }
        task?.cancel()
        await task?.value
        return true
    }

    /// Pauses delivery (events keep queueing) or, `paused: false`, restarts it: resumes a paused
    /// stream and retries a failing one at once. False: no such stream.
    @discardableResult
    public func setStreamPaused(_ id: Int, _ paused: Bool) async -> Bool {
        state.withLock { inner in
            guard inner.streams[id] != nil else { return false }
            inner.streams[id]?.paused = paused
            if !paused { inner.streams[id]?.wake = true }
            return true
        }
    }

    /// Adds an event given as raw JSON (one object), served unchanged. It needs a `timestamp`
    /// in either emnify style; without an `id` one is assigned (inserted after the `{`).
    /// An event without `endpoint`/`sim` shows only in the organisation feed.
    @discardableResult
    public func injectRaw(_ json: String) async throws -> Int64 {
        let meta: RawEventMeta
        do {
            meta = try JSONDecoder().decode(RawEventMeta.self, from: Data(json.utf8))
        } catch {
            throw EmulatorError.invalidEvent("not a JSON event object: \(error)")
        }
        guard let millis = EmulatorTime.parseEventTimestamp(meta.timestamp) else {
            throw EmulatorError.invalidEvent("unreadable timestamp '\(meta.timestamp)'")
        }
        return state.withLock { inner in
            let id = meta.id ?? inner.store.takeID()
            let simIndex = meta.sim?.id.flatMap { inner.fleet.index(ofSimID: $0) }
            let endpointIndex = meta.endpoint?.id.flatMap { inner.fleet.index(ofEndpointID: $0) }
            var text = Substring(json)
            while let first = text.first, first.isWhitespace { text = text.dropFirst() }
            while let last = text.last, last.isWhitespace { text = text.dropLast() }
            if meta.id == nil { text = Substring("{\"id\":\(id)," + text.dropFirst()) }
            let event = StoredEvent(
                id: id, timestampMillis: millis, typeID: meta.event_type?.id ?? 0, source: meta.event_source?.id ?? 0,
                severity: meta.event_severity?.id ?? 0, alert: meta.alert ?? false,
                hasEndpoint: endpointIndex != nil && (endpointIndex == simIndex || simIndex == nil),
                hasSim: simIndex != nil, simIndex: Int32(simIndex ?? endpointIndex ?? 0),
                hasUser: meta.user?.id != nil, userID: meta.user?.id,
                body: .raw(String(text)))
            inner.store.insert(event)
            return id
        }
    }

    /// Arms a fault (see `FaultRule` for count and duration).
    public func injectFault(_ fault: Fault, path: String = "*", count: Int? = nil, duration: Duration? = nil) async {
        state.withLock { $0.faults.append(FaultRule(fault, path: path, count: count, duration: duration)) }
    }

    public func clearFaults() async {
        state.withLock { $0.faults.removeAll() }
    }

    /// Every token issued so far answers 401 (empty body) from now on.
    public func revokeTokens() async {
        state.withLock { $0.tokens.revokeAll() }
    }

    /// Every JWT `POST /api/v1/authenticate` issued since start, oldest first (revoked ones too).
    public func issuedTokens() async -> [String] {
        state.withLock { $0.tokens.issued }
    }

    public func counters() async -> EmulatorCounters {
        state.withLock { $0.counters }
    }

    /// Clears counters, faults and the authenticate limits; events and tokens stay.
    public func reset() async {
        state.withLock { inner in
            inner.counters = EmulatorCounters()
            inner.counters.connections = inner.connectionActivity.count
            inner.faults.removeAll()
            inner.authenticationTimes.removeAll()
            inner.consecutiveFailedLogins = 0
            inner.loginLockedUntil = nil
        }
    }

    /// Number of stored events (all feeds).
    public func eventCount() async -> Int {
        state.withLock { $0.store.events.count }
    }

    /// The current connectivity status name (`ATTACHED`, `ONLINE`, `OFFLINE`, `BLOCKED`).
    public func connectivityStatus() async -> String {
        state.withLock { $0.store.connectivityStatus.name }
    }

    /// What `PATCH /api/v1/endpoint/{id}/connectivity` does: after a short delay, Purge
    /// location then Update location (`location`), and/or Delete then Create PDP Context
    /// (`pdpContext`), all with source API.
    public func resetConnectivity(location: Bool, pdpContext: Bool) async {
        let state = self.state
        let delay = state.configuration.resetEventDelay
        Task {
            var kinds: [EventKind] = []
            if location { kinds += [.purgeLocation, .updateLocation] }
            if pdpContext { kinds += [.deletePDPContext, .createPDPContext] }
            for kind in kinds {
                try? await Task.sleep(for: delay)
                if state.isStopping { return }
                state.withLock { _ = $0.store.append(kind, at: EmulatorState.nowMillis, source: .api) }
            }
        }
    }
}

public enum EmulatorError: Error, CustomStringConvertible, Sendable {
    case invalidEvent(String)
    case invalidConfiguration(String)
    case startFailed(String)

    public var description: String {
        switch self {
        case .invalidEvent(let why): "emulator: the event cannot be injected: \(why)"
        case .invalidConfiguration(let why): "emulator: invalid configuration: \(why)"
        case .startFailed(let why): "emulator: could not start: \(why)"
        }
    }
}

/// The fields of an injected raw event that the emulator indexes.
struct RawEventMeta: Decodable {
    struct Ref: Decodable { let id: Int64? }
    struct Typed: Decodable { let id: Int }
    let id: Int64?
    let timestamp: String
    let alert: Bool?
    let event_type: Typed?
    let event_source: Typed?
    let event_severity: Typed?
    let endpoint: Ref?
    let sim: Ref?
    let user: Ref?
}
