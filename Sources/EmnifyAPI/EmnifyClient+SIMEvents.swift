extension EmnifyClient {
    /// The events of a SIM as the Portal shows them: its endpoint's feed and its own, merged by id
    /// (an endpoint's event appears in both) and oldest first. Events that could not be read are
    /// in `rejected`, for the caller to report.
    public func eventsOfSIM(_ sim: SIM, from: Int64, until: Int64) async throws(EmnifyError) -> SIMEvents {
        var feeds: [EventPage] = []
        if let endpoint = sim.endpoint {
            feeds.append(try await events(.endpoint(endpoint.id), from: from, until: until))
        }
        feeds.append(try await events(.sim(sim.id), from: from, until: until))
        return SIMEvents(feeds: feeds)
    }
}

/// Both feeds of a SIM, merged.
public struct SIMEvents: Sendable {
    public var events: [EmnifyEvent]
    public var rejected: [EventPage.Rejected]

    init(feeds: [EventPage]) {
        var seen = Set<Int64>()
        var merged: [EmnifyEvent] = []
        for event in feeds.lazy.flatMap(\.events) where seen.insert(event.id).inserted {
            merged.append(event)
        }
        events = merged.sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
        rejected = feeds.flatMap(\.rejected)
    }
}
