import EdgeCommon
import FoundationEssentials
import Logging

/// The emnify REST API as the agent uses it: authentication with a cached JWT, SIM lookup,
/// event feeds, event types and connectivity. Each call retries transient failures within
/// its `RetryPolicy` and otherwise throws an `EmnifyError` that says what to do.
public actor EmnifyClient {
    public struct Configuration: Sendable {
        /// e.g. `https://cdn.emnify.net` (no trailing slash needed).
        public var baseURL: String
        public var applicationToken: String
        /// Where the JWT is cached between runs (mode 0600); nil keeps it in memory only.
        public var tokenCachePath: String?
        /// Where a pause after a refused application token is kept between runs; nil: in memory only.
        public var authenticationPausePath: String?
        public var retry: RetryPolicy
        /// The counters saved by the previous run: continued when they are of today (UTC), so that
        /// a restart does not make a day's usage look smaller than it was.
        public var initialUsage: UsageCounters?

        public init(
            baseURL: String, applicationToken: String, tokenCachePath: String? = nil,
            authenticationPausePath: String? = nil,
            retry: RetryPolicy = RetryPolicy(), initialUsage: UsageCounters? = nil
        ) {
            var url = baseURL
            while url.hasSuffix("/") { url.removeLast() }
            self.baseURL = url
            self.applicationToken = applicationToken
            self.tokenCachePath = tokenCachePath
            self.authenticationPausePath = authenticationPausePath
            self.retry = retry
            self.initialUsage = initialUsage
        }
    }

    public typealias Sleeper = @Sendable (Duration) async throws -> Void

    let configuration: Configuration
    let transport: any HTTPTransport
    /// The gateway's wall clock: only a fallback for the API's time and for what is logged.
    let clock: any WallClock
    let monotonic: any MonotonicClock
    let sleep: Sleeper
    let logger: Logger
    let tokenCache: TokenCache?
    let pauseFile: AuthenticationPauseFile?
    var authentication: AuthenticationState
    var apiClock = APIClock()
    /// The offset last logged, to log again only when it changes (the local clock was set).
    var loggedClockOffsetMillis: Int64?
    var warnedAboutMissingDate = false
    public internal(set) var usage: UsageCounters

    public init(
        configuration: Configuration, transport: any HTTPTransport, clock: any WallClock = SystemWallClock(),
        monotonic: any MonotonicClock = SystemMonotonicClock(), logger: Logger = Logger(label: "emnify-edge.api"),
        sleep: @escaping Sleeper = { try await Task.sleep(for: $0) }
    ) {
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.logger = logger
        self.tokenCache = configuration.tokenCachePath.map {
            TokenCache(path: $0, applicationToken: configuration.applicationToken, baseURL: configuration.baseURL)
        }
        self.pauseFile = configuration.authenticationPausePath.map {
            AuthenticationPauseFile(
                path: $0, applicationToken: configuration.applicationToken, baseURL: configuration.baseURL)
        }
        self.authentication = AuthenticationState()
        let today = UsageCounters.day(ofMilliseconds: clock.nowMilliseconds())
        if let saved = configuration.initialUsage, saved.day == today {
            self.usage = saved
        } else {
            self.usage = UsageCounters(day: today)
        }
        // Kept whatever the local clock says of its expiry: the API's answers judge it (see `isFresh`).
        authentication.token = tokenCache?.load()
        if let pauseFile, let pause = pauseFile.load() {
            Self.resuming(
                pause, into: &authentication, localMillis: clock.nowMilliseconds(),
                monotonicMillis: monotonic.monotonicMilliseconds(), pausePath: pauseFile.path, logger: logger)
        }
    }

    // MARK: - The API's clock

    /// The API's time now (ms since the epoch), from its answers; the local clock until the first.
    public func apiTimeMilliseconds() -> Int64 {
        apiClock.now(monotonic: monotonic.monotonicMilliseconds()) ?? clock.nowMilliseconds()
    }

    /// The API's clock minus the gateway's, in ms; nil before the API's first answer with a time.
    public var clockOffsetMillis: Int64? {
        apiClock.now(monotonic: monotonic.monotonicMilliseconds()).map { $0 - clock.nowMilliseconds() }
    }

    /// Sends one request and learns the API's time from the answer's `Date` header.
    func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await transport.send(request)
        let receivedAt = monotonic.monotonicMilliseconds()
        if response.header("date") == nil && !apiClock.isKnown && !warnedAboutMissingDate {
            warnedAboutMissingDate = true
            logger.warning("the API's answer has no Date header; the local clock stands in for the API's until one has")
        }
        apiClock.record(dateHeader: response.header("date"), receivedAt: receivedAt)
        noteClockOffset()
        return response
    }

    /// Logs the offset between the API's clock and the gateway's when first known and whenever it
    /// changes by more than 10 s (the local clock was set, e.g. by NTP after a boot).
    func noteClockOffset() {
        guard let offset = clockOffsetMillis else { return }
        let seconds = offset / 1000
        let metadata: Logger.Metadata = ["clock_offset_seconds": "\(seconds)"]
        let direction = offset > 0 ? "behind" : "ahead of"
        if let logged = loggedClockOffsetMillis {
            guard abs(offset - logged) > 10_000 else { return }
            let message =
                "the gateway clock was set: it is now \(abs(seconds)) s \(direction) the API's; event windows and "
                + "token expiry follow the API's clock"
            logger.warning("\(message)", metadata: metadata)
        } else if abs(offset) > 10_000 {
            let message =
                "the gateway clock is \(abs(seconds)) s \(direction) the API's; event windows and token expiry follow "
                + "the API's clock (enable NTP on the gateway)"
            logger.warning("\(message)", metadata: metadata)
        } else {
            logger.info("clock offset against the API", metadata: metadata)
        }
        loggedClockOffsetMillis = offset
    }

    // MARK: - Calls

    /// Finds the SIM by the modem's ICCID; nil when emnify has no SIM with it.
    public func findSIM(iccid: ICCID) async throws(EmnifyError) -> SIM? {
        let path = "/api/v1/sim"
        let query = [("q", iccid.simLookupQuery), ("page", "1"), ("per_page", "10")]
        let response = try await send(.get, path: path, query: query)
        let sims: [SIM]
        do {
            sims = try JSONDecoder().decode([SIM].self, from: Data(response.body))
        } catch {
            throw .malformedResponse(path: path, .invalidObject("SIM list: \(error)"))
        }
        // The filter may match by prefix on some deployments; insist on the exact SIM.
        let digits19 = iccid.withoutCheckDigit
        return sims.first {
            $0.iccid == digits19 || $0.iccid == iccid.normalized || $0.iccidWithLuhn == iccid.withCheckDigit
        }
            ?? (sims.count == 1 ? sims[0] : nil)
    }

    /// One page of an event feed.
    public func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage {
        let path = feed.path
        var headers: [(String, String)] = []
        if let etag = query.ifNoneMatch { headers.append(("If-None-Match", etag)) }
        // Decoded once, inside the retry loop: a malformed page is retried like a failed request.
        var page: EventPage?
        let response = try await send(.get, path: path, query: query.items, headers: headers) {
            response throws(APIDecodingError) in
            page = response.status == 304 ? nil : try EventPage.decode(response)
        }
        guard let page else {
            return EventPage(
                events: [], rejected: [], paging: PagingHeaders(response: response), etag: query.ifNoneMatch,
                notModified: true)
        }
        return page
    }

    /// Every event of a feed in a time window, following the pages as `EventPaging` decides.
    public func events(
        _ feed: EventFeed, from: Int64, until: Int64, perPage: Int = 100, maxPages: Int = 1000
    ) async throws(EmnifyError) -> EventPage {
        var all = EventPage(events: [], rejected: [], paging: PagingHeaders(), etag: nil, notModified: false)
        try await eachEventPage(feed, from: from, until: until, perPage: perPage, maxPages: maxPages) { page in
            all.events += page.events
            all.rejected += page.rejected
            all.paging = page.paging
        }
        return all
    }

    /// The pages of a feed in a time window, one at a time (an organisation's month of events does not
    /// fit in memory), each without the events the page before brought (events arriving meanwhile shift
    /// items by a few places: they repeat at a page boundary, and are dropped there).
    public func eachEventPage(
        _ feed: EventFeed, from: Int64, until: Int64, perPage: Int = 100, maxPages: Int = 1000,
        _ body: (EventPage) -> Void
    ) async throws(EmnifyError) {
        let (end, page) = try await EventPaging.walk(perPage: perPage, maxPages: maxPages) {
            page throws(EmnifyError) in
            var query = EventQuery(page: page, perPage: perPage, sort: "id")
            query.window = (from, until)
            return try await eventPage(feed, query: query)
        } _: { page throws(EmnifyError) in
            body(page)
        }
        if end == .repeatedPage {
            logger.warning("the API repeated a page; paging stops", metadata: ["feed": "\(feed)", "page": "\(page)"])
        }
    }

    /// `GET /api/v1/event/type`: the lookup of type ids and names.
    public func eventTypes() async throws(EmnifyError) -> [EmnifyEvent.Reference] {
        let path = "/api/v1/event/type"
        let response = try await send(.get, path: path, query: [])
        struct WireType: Decodable {
            var id: Int
            var description: String?
        }
        do {
            return try JSONDecoder().decode([WireType].self, from: Data(response.body)).map {
                .init(id: $0.id, description: $0.description)
            }
        } catch {
            throw .malformedResponse(path: path, .invalidObject("event types: \(error)"))
        }
    }

    /// `GET /api/v1/endpoint/{id}`: name and status (`Enabled` / `Disabled`) of the endpoint.
    public func endpoint(id: Int64) async throws(EmnifyError) -> EndpointDetails {
        let path = "/api/v1/endpoint/\(id)"
        let response = try await send(.get, path: path, query: [])
        struct Wire: Decodable {
            struct Status: Decodable { var description: String? }
            var id: Int64
            var name: String?
            var status: Status?
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(response.body)) else {
            throw .malformedResponse(path: path, .invalidObject("endpoint: '\(response.bodySnippet)'"))
        }
        return EndpointDetails(id: wire.id, name: wire.name, status: wire.status?.description)
    }

    public func connectivity(endpointID: Int64) async throws(EmnifyError) -> ConnectivityStatus {
        let path = "/api/v1/endpoint/\(endpointID)/connectivity"
        let response = try await send(.get, path: path, query: [])
        struct Wire: Decodable {
            struct Status: Decodable { var description: String? }
            var status: Status?
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(response.body)),
            let status = wire.status?.description
        else {
            throw .malformedResponse(path: path, .invalidObject("connectivity: '\(response.bodySnippet)'"))
        }
        return ConnectivityStatus(status: status, raw: response.body)
    }

    /// Triggers a connectivity reset (`PATCH …/connectivity`); the device briefly disconnects.
    public func resetConnectivity(endpointID: Int64, _ what: ConnectivityReset) async throws(EmnifyError) {
        let path = "/api/v1/endpoint/\(endpointID)/connectivity"
        _ = try await send(.patch, path: path, query: [], body: Array("{\"\(what.rawValue)\":null}".utf8))
    }

    /// Makes sure a valid JWT is at hand (authenticating if needed). For diagnostics.
    public func authenticate() async throws(EmnifyError) {
        _ = try await validToken()
    }

    public var tokenExpiresAt: Int64? { authentication.token?.expiresAt }
}

/// Which event feed to read.
public enum EventFeed: Sendable, Hashable, CustomStringConvertible {
    case endpoint(Int64)
    case sim(Int64)
    /// `GET /api/v1/event`: every event of the organisation (the relay's feed).
    case organisation
    /// `GET /api/v1/user/{id}/event`: the events of one user of the organisation.
    case user(Int64)

    public var path: String {
        switch self {
        case .endpoint(let id): return "/api/v1/endpoint/\(id)/event"
        case .sim(let id): return "/api/v1/sim/\(id)/event"
        case .organisation: return "/api/v1/event"
        case .user(let id): return "/api/v1/user/\(id)/event"
        }
    }

    public var description: String {
        switch self {
        case .endpoint(let id): return "endpoint \(id)"
        case .sim(let id): return "SIM \(id)"
        case .organisation: return "the organisation"
        case .user(let id): return "user \(id)"
        }
    }
}
