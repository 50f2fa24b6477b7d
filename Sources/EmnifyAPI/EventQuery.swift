import EdgeCommon

/// Query of one event-feed page: `page`, `per_page`, `sort` and the `q` filters.
public struct EventQuery: Sendable {
    public var page: Int
    public var perPage: Int
    /// e.g. `id` or `-id` (descending).
    public var sort: String?
    /// `from`/`until` in seconds since the epoch; emnify accepts them only as a pair.
    public var window: (from: Int64, until: Int64)?
    public var types: [Int] = []
    /// Sent as `If-None-Match`; a 304 answer then costs no body.
    public var ifNoneMatch: String?

    public init(page: Int = 1, perPage: Int = 100, sort: String? = nil) {
        self.page = page
        self.perPage = perPage
        self.sort = sort
    }

    var items: [(String, String)] {
        var items = [("page", String(page)), ("per_page", String(perPage))]
        if let sort { items.append(("sort", sort)) }
        var filters: [String] = []
        if let window {
            filters.append("from:\(UTCDateTime(secondsSinceEpoch: window.from).iso8601)")
            filters.append("until:\(UTCDateTime(secondsSinceEpoch: window.until).iso8601)")
        }
        if !types.isEmpty {
            filters.append("type:" + types.map(String.init).joined(separator: "|"))
        }
        if !filters.isEmpty { items.append(("q", filters.joined(separator: ","))) }
        return items
    }
}

/// One page (or several merged) of a feed: the events that decoded, and the elements that
/// did not, kept with their raw JSON so nothing vanishes silently.
public struct EventPage: Sendable {
    public struct Rejected: Sendable {
        public var index: Int
        public var reason: String
        public var raw: [UInt8]
    }

    public var events: [EmnifyEvent]
    public var rejected: [Rejected]
    public var paging: PagingHeaders
    public var etag: String?
    public var notModified: Bool

    public init(
        events: [EmnifyEvent], rejected: [Rejected] = [], paging: PagingHeaders = PagingHeaders(), etag: String? = nil,
        notModified: Bool = false
    ) {
        self.events = events
        self.rejected = rejected
        self.paging = paging
        self.etag = etag
        self.notModified = notModified
    }

    static func decode(_ response: HTTPResponse) throws(APIDecodingError) -> EventPage {
        let elements = try JSONArraySplitter.elements(response.body)
        var events: [EmnifyEvent] = []
        var rejected: [Rejected] = []
        events.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            // Set aside before the recursive JSONDecoder sees it; its neighbours are still read.
            if element.isTooDeep {
                let reason = APIDecodingError.tooDeep(limit: JSONArraySplitter.maxDepth).description
                rejected.append(Rejected(index: index, reason: reason, raw: Array(element.bytes)))
                continue
            }
            do {
                events.append(try EmnifyEvent(json: element.bytes))
            } catch {
                let reason: String
                if case .invalidEvent(_, let text) = error { reason = text } else { reason = error.description }
                rejected.append(Rejected(index: index, reason: reason, raw: Array(element.bytes)))
            }
        }
        return EventPage(
            events: events, rejected: rejected, paging: PagingHeaders(response: response),
            etag: response.header("etag"),
            notModified: false)
    }
}
