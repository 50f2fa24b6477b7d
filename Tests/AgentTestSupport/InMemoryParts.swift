import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Foundation
import Synchronization

/// An emnify stand-in for agent unit tests: events per feed, filtered and paged like the API.
public final class InMemoryAPI: AgentAPI {
    public struct Data {
        public var sims: [String: SIM] = [:]
        public var feeds: [EventFeed: [EmnifyEvent]] = [:]
        public var requests: [String] = []
        /// The `from` of each event query, in seconds, by feed.
        public var windowStarts: [EventFeed: [Int64]] = [:]
        public var failNext: EmnifyError?
        /// Answers every page number with the first page, as a server that ignores `page`.
        public var ignoresPage = false
        /// The `until` of each event query, in seconds, by feed (beside `windowStarts`).
        public var windowEnds: [EventFeed: [Int64]] = [:]
        /// Sends an ETag with each page (of its events and the total) and answers a matching
        /// If-None-Match with 304, as emnify does; off, as a server that never sends one.
        public var sendsETags = false
        /// How many queries were answered 304, by feed.
        public var notModifiedAnswers: [EventFeed: Int] = [:]
        /// Fails the queries it returns true for, before answering them.
        public var failsQuery: (@Sendable (EventFeed, EventQuery) -> Bool)?
        /// Refuses the queries it returns an error for, before answering them.
        public var refusesQuery: (@Sendable (EventFeed, EventQuery) -> EmnifyError?)?
        /// The `per_page` of each event query, by feed (beside `windowStarts`).
        public var perPages: [EventFeed: [Int]] = [:]
        /// How many events the answers carried, by feed: what a client downloaded.
        public var eventsSent: [EventFeed: Int] = [:]
        /// Sends `X-Total-Count` (the query's events, plus `totalCountError`), as emnify does.
        public var sendsTotalCount = true
        public var totalCountError = 0
    }

    public let data = Mutex(Data())
    /// The API's clock (the gateway's clock is another matter: the agent must not need it).
    public let clock: any WallClock

    public init(clock: any WallClock) {
        self.clock = clock
    }

    public var requests: [String] { data.withLock { $0.requests } }

    public func findSIM(iccid: ICCID) async throws(EmnifyError) -> SIM? {
        try data.withLock { (data) throws(EmnifyError) -> SIM? in
            data.requests.append("sim")
            if let failure = data.failNext {
                data.failNext = nil
                throw failure
            }
            return data.sims[iccid.withoutCheckDigit ?? ""]
        }
    }

    public func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage {
        try data.withLock { (data) throws(EmnifyError) -> EventPage in
            data.requests.append(feed.description)
            if let window = query.window {
                data.windowStarts[feed, default: []].append(window.from)
                data.windowEnds[feed, default: []].append(window.until)
            }
            data.perPages[feed, default: []].append(query.perPage)
            if let failure = data.failNext {
                data.failNext = nil
                throw failure
            }
            if let refusal = data.refusesQuery?(feed, query) { throw refusal }
            if let failsQuery = data.failsQuery, failsQuery(feed, query) {
                throw EmnifyError.serverError(status: 503, path: feed.path, snippet: "injected by the test")
            }
            var events = data.feeds[feed] ?? []
            if let window = query.window {
                events = events.filter {
                    $0.timestamp.secondsSinceEpoch >= window.from && $0.timestamp.secondsSinceEpoch <= window.until
                }
            }
            events.sort { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
            let start = data.ignoresPage ? 0 : (query.page - 1) * query.perPage
            let slice = start < events.count ? Array(events[start..<min(start + query.perPage, events.count)]) : []
            let pages = (events.count + query.perPage - 1) / query.perPage
            let paging = PagingHeaders(
                totalCount: data.sendsTotalCount ? events.count + data.totalCountError : nil, totalPages: pages,
                currentPage: query.page)
            var etag: String?
            if data.sendsETags {
                let contents = slice.map { "\($0.id)@\($0.timestamp.millisecondsSinceEpoch)" }.joined(separator: ",")
                etag = "W/\"\(events.count):\(contents)\""
                if query.ifNoneMatch == etag {
                    data.notModifiedAnswers[feed, default: 0] += 1
                    return EventPage(events: [], rejected: [], paging: paging, etag: etag, notModified: true)
                }
            }
            data.eventsSent[feed, default: 0] += slice.count
            return EventPage(events: slice, rejected: [], paging: paging, etag: etag, notModified: false)
        }
    }

    public var usage: UsageCounters {
        get async { UsageCounters(day: "2026-11-26") }
    }

    public func apiTimeMilliseconds() async -> Int64 { clock.nowMilliseconds() }
    public var clockOffsetMillis: Int64? { get async { nil } }

    public func add(_ event: EmnifyEvent, to feeds: EventFeed...) {
        data.withLock { data in
            for feed in feeds { data.feeds[feed, default: []].append(event) }
        }
    }
}

public final class RecordingPublisher: MessagePublisher {
    public init() {}
    public let messages = Mutex<[MQTTMessage]>([])
    /// Fail the publish call that would bring the count of event messages past this number.
    public let failAfterEvents = Mutex<Int?>(nil)

    public func publish(_ batch: [MQTTMessage]) async throws {
        try messages.withLock { messages in
            if let limit = failAfterEvents.withLock({ $0 }) {
                let events = messages.filter { $0.topic.contains("/event/") }.count
                let incoming = batch.filter { $0.topic.contains("/event/") }.count
                if events + incoming > limit { throw TestFailure.brokerDown }
            }
            messages.append(contentsOf: batch)
        }
    }

    public var eventIDs: [Int64] {
        messages.withLock { $0 }.filter { $0.topic.contains("/event/") }.compactMap(\.eventID)
    }

    public func last(_ suffix: String) -> MQTTMessage? {
        messages.withLock { $0 }.last { $0.topic.hasSuffix(suffix) }
    }
}

public enum TestFailure: Error { case brokerDown }

public struct FixedIdentity: IdentityProvider {
    public init(identity: AgentIdentity) { self.identity = identity }
    public let identity: AgentIdentity
    public func readIdentity() async throws -> AgentIdentity { identity }
}

/// The API's clock (as a wall clock) and the agent's monotonic clock, moved together by hand.
public final class TestClock: WallClock, MonotonicClock {
    public init() {}
    public let now = Mutex<Int64>(1_764_000_000_000)
    public func nowMilliseconds() -> Int64 { now.withLock { $0 } }
    public func monotonicMilliseconds() -> Int64 { now.withLock { $0 } }
    public func advance(seconds: Int64) { now.withLock { $0 += seconds * 1000 } }
}

public func makeEvent(id: Int64, millis: Int64, type: Int = 1, severity: Int = 0, extra: String = "") -> EmnifyEvent {
    let timestamp = EmnifyTimestamp(millisecondsSinceEpoch: millis).text
    let json =
        #"{"id": \#(id), "timestamp": "\#(timestamp)", "event_type": {"id": \#(type), "description": "T\#(type)"}, "event_severity": {"id": \#(severity), "description": "Info"}\#(extra)}"#
    return try! EmnifyEvent(json: Array(json.utf8))
}

public func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
