/// All events of the emulated organisation, kept sorted by id (the API's default order), and
/// the seeded state machine that makes new ones, one per SIM of the fleet: attach (update
/// location, update GPRS location), data sessions (create/delete PDP context), purges, quota
/// and blocking.
struct EventStore: Sendable {
    /// One SIM's place in the state machine (12 bytes, so 10,000 SIMs are cheap).
    struct Connectivity: Sendable {
        var attached = false
        var session: UInt32?
        var blocked = false
    }

    private(set) var events: [StoredEvent] = []
    private var random: SeededRandom
    private var nextID: Int64
    /// Per fleet index; grown on a SIM's first event.
    private var sims: [Connectivity] = [Connectivity()]
    /// The first SIM has an endpoint (the fleet's other SIMs always have one).
    let hasEndpoint: Bool
    /// Ids of the events created while data streams exist, in creation order (which is not id
    /// order: a raw event keeps its own id). `journalStart` is the position of its first entry;
    /// the streams read it from their positions and `trimJournal` drops what all have read.
    private(set) var journal: [Int64] = []
    private(set) var journalStart = 0
    var isJournaling = false

    /// Position after the last journal entry (where a stream created now starts reading).
    var journalEnd: Int { journalStart + journal.count }

    /// The journal's ids from `position` on.
    func journalEntries(from position: Int) -> ArraySlice<Int64> {
        journal[max(0, position - journalStart)...]
    }

    /// Forgets the entries before `position` (what every stream has read); nil: no stream is left.
    mutating func trimJournal(before position: Int?) {
        guard let position else {
            journalStart += journal.count
            journal.removeAll()
            isJournaling = false
            return
        }
        let count = min(journal.count, max(0, position - journalStart))
        journal.removeFirst(count)
        journalStart += count
    }

    /// The stored event with `id` (binary search: the events are in id order).
    func event(id: Int64) -> StoredEvent? {
        var low = 0
        var high = events.count
        while low < high {
            let mid = (low + high) / 2
            if events[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low < events.count && events[low].id == id ? events[low] : nil
    }

    init(seed: UInt64, hasEndpoint: Bool) {
        random = SeededRandom(seed: seed ^ 0xE7E7_0001)
        // Ids above 2^48, as seen on the real service: they must survive as 64-bit integers.
        nextID = (1 << 48) + Int64.random(in: 0..<(1 << 40), using: &random)
        self.hasEndpoint = hasEndpoint
    }

    /// The first SIM's (the endpoint routes serve only it).
    var connectivityStatus: (id: Int, name: String) {
        let sim = sims[0]
        if sim.blocked { return (3, "BLOCKED") }
        if sim.session != nil { return (1, "ONLINE") }
        if sim.attached { return (0, "ATTACHED") }
        return (2, "OFFLINE")
    }

    var blocked: Bool { sims[0].blocked }
    var hasPDPContext: Bool { sims[0].session != nil }
    var isAttached: Bool { sims[0].attached }

    /// `count` events spread back from `endMillis`, oldest first; the mean spacing keeps the
    /// whole history inside emnify's 30-day retention.
    mutating func generateHistory(count: Int, endMillis: Int64, meanIntervalMillis: Int64) {
        guard count > 0 else { return }
        let thirtyDays: Int64 = 30 * 86_400_000
        let mean = max(1, min(meanIntervalMillis, thirtyDays / Int64(count)))
        var gaps: [Int64] = []
        gaps.reserveCapacity(count)
        for _ in 0..<count { gaps.append(Int64.random(in: (mean / 2)...(mean * 3 / 2), using: &random)) }
        var time = endMillis - gaps.reduce(0, +)
        events.reserveCapacity(events.count + count)
        for gap in gaps {
            time += gap
            appendNext(at: time)
        }
    }

    /// One step of SIM `sim`'s state machine at `millis`; returns the new event's id.
    @discardableResult
    mutating func appendNext(at millis: Int64, sim: Int = 0) -> Int64 {
        if sim >= sims.count { sims += Array(repeating: Connectivity(), count: sim + 1 - sims.count) }
        let kind: EventKind
        var blocked = sims[sim].blocked
        let attached = sims[sim].attached
        let session = sims[sim].session
        if blocked {
            kind = random.chance(0.3) ? .pdpContextRejected : .updateGPRSLocation
            if random.chance(0.2) { blocked = false }
            sims[sim].blocked = blocked
        } else if !attached {
            kind = random.chance(0.5) ? .updateLocation : .updateGPRSLocation
        } else if session == nil {
            switch Double.random(in: 0..<1, using: &random) {
            case ..<0.82: kind = .createPDPContext
            case ..<0.87: kind = .purgeLocation
            case ..<0.91: kind = .quotaThresholdReached
            case ..<0.94: kind = .pdpContextRejected
            case ..<0.96: kind = .quotaUsedUp
            case ..<0.97: kind = .endpointBlocked
            case ..<0.98: kind = .generic
            case ..<0.99: kind = .userAuthenticationFailed
            default: kind = .purgeGPRSLocation
            }
        } else {
            kind = random.chance(0.93) ? .deletePDPContext : .purgeGPRSLocation
        }
        return append(kind, at: millis, source: nil, sim: sim)
    }

    /// Appends an event of `kind` for SIM `sim` (updating the connectivity state it implies;
    /// organisation and user events name no SIM) and returns its id.
    @discardableResult
    mutating func append(_ kind: EventKind, at millis: Int64, source: EventSource?, sim: Int = 0) -> Int64 {
        if sim >= sims.count { sims += Array(repeating: Connectivity(), count: sim + 1 - sims.count) }
        let variant = UInt32.random(in: 0...UInt32.max, using: &random)
        var sessionValue: UInt32 = variant
        var attached = sims[sim].attached
        var session = sims[sim].session
        var blocked = sims[sim].blocked
        switch kind {
        case .updateLocation: break
        case .updateGPRSLocation: attached = true
        case .createPDPContext:
            attached = true
            session = variant
        case .deletePDPContext:
            sessionValue = session ?? variant
            session = nil
        case .purgeLocation, .purgeGPRSLocation:
            session = nil
            attached = false
        case .endpointBlocked:
            blocked = true
            session = nil
        default: break
        }
        if !kind.isOrganisationOnly { sims[sim] = Connectivity(attached: attached, session: session, blocked: blocked) }
        let id = takeID()
        let event = StoredEvent(
            id: id, timestampMillis: millis, typeID: kind.typeID, source: (source ?? kind.defaultSource).rawValue,
            severity: kind.severity, alert: kind.alert,
            hasEndpoint: (hasEndpoint || sim > 0) && !kind.isOrganisationOnly, hasSim: !kind.isOrganisationOnly,
            simIndex: kind.isOrganisationOnly ? 0 : Int32(sim), hasUser: kind.namesUser,
            body: .generated(
                kind: kind, variant: variant, session: sessionValue, plusZeroTimestamp: random.chance(0.125)))
        events.append(event)
        if isJournaling { journal.append(id) }
        return id
    }

    /// Stores an injected event (raw JSON); its id is kept if given, else a new one is assigned.
    mutating func insert(_ event: StoredEvent) {
        if event.id >= nextID { nextID = event.id + 1 }
        if let last = events.last, last.id >= event.id {
            var low = 0
            var high = events.count
            while low < high {
                let mid = (low + high) / 2
                if events[mid].id < event.id { low = mid + 1 } else { high = mid }
            }
            events.insert(event, at: low)
        } else {
            events.append(event)
        }
        if isJournaling { journal.append(event.id) }
    }

    /// A fleet index below `count`, from the store's seeded sequence (runs repeat).
    mutating func randomSIM(below count: Int) -> Int {
        Int.random(in: 0..<max(1, count), using: &random)
    }

    mutating func takeID() -> Int64 {
        let id = nextID
        nextID += Int64.random(in: 1...4096, using: &random)
        return id
    }

    mutating func removeAll() {
        events.removeAll()
    }
}
