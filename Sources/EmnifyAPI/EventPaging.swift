/// When to stop following the pages of an event feed: on a short or empty page, on a page that
/// brings no new id (a server that ignores `page` repeats the first), and at a page limit; never
/// on the paging headers alone (they can lie, see `PagingHeaders`). The one rule for the agent's
/// poll and for `EmnifyClient.events`.
public enum EventPaging {
    public enum Decision: Equatable, Sendable {
        case nextPage
        case lastPage
        /// The page repeated ids already seen: stop, and say so (the server ignores `page`).
        case repeatedPage
    }

    /// - Parameters:
    ///   - page: the number of the page just read, from 1.
    ///   - newEvents: how many of its events had ids not seen earlier in this walk.
    public static func decide(
        after page: Int, of result: EventPage, newEvents: Int, perPage: Int, maxPages: Int
    ) -> Decision {
        let received = result.events.count + result.rejected.count
        if received < perPage { return .lastPage }
        if page > 1 && newEvents == 0 && result.rejected.isEmpty { return .repeatedPage }
        return page >= maxPages ? .lastPage : .nextPage
    }

    /// Reads the pages of one query in turn: `fetch(n)` reads page n, `body` gets each without the
    /// events the page before brought (events arriving meanwhile shift items by a few places: they
    /// repeat at a page boundary). Returns how the walk ended (`.lastPage` or `.repeatedPage`) and the
    /// last page read. The one walk for `EmnifyClient.eachEventPage` and the relay's org poll.
    nonisolated(nonsending) public static func walk<Failure: Error>(
        perPage: Int, maxPages: Int, fetch: (Int) async throws(Failure) -> EventPage,
        _ body: (EventPage) async throws(Failure) -> Void
    ) async throws(Failure) -> (end: Decision, page: Int) {
        var previous = Set<Int64>()
        var page = 1
        while true {
            var result = try await fetch(page)
            let received = result.events
            result.events = received.filter { !previous.contains($0.id) }
            let new = result.events.count
            try await body(result)
            previous = Set(received.map(\.id))
            result.events = received
            let decision = decide(after: page, of: result, newEvents: new, perPage: perPage, maxPages: maxPages)
            guard decision == .nextPage else { return (decision, page) }
            page += 1
        }
    }
}
