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
}
