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
        public var retry: RetryPolicy

        public init(baseURL: String, applicationToken: String, tokenCachePath: String? = nil, retry: RetryPolicy = RetryPolicy()) {
            var url = baseURL
            while url.hasSuffix("/") { url.removeLast() }
            self.baseURL = url
            self.applicationToken = applicationToken
            self.tokenCachePath = tokenCachePath
            self.retry = retry
        }
    }

    public typealias Sleeper = @Sendable (Duration) async throws -> Void

    let configuration: Configuration
    let transport: any HTTPTransport
    let clock: any WallClock
    let sleep: Sleeper
    let logger: Logger
    let tokenCache: TokenCache?
    var authentication: AuthenticationState
    public internal(set) var usage: UsageCounters

    public init(
        configuration: Configuration, transport: any HTTPTransport, clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "emnify-edge.api"),
        sleep: @escaping Sleeper = { try await Task.sleep(for: $0) }
    ) {
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self.logger = logger
        self.tokenCache = configuration.tokenCachePath.map {
            TokenCache(path: $0, applicationToken: configuration.applicationToken, baseURL: configuration.baseURL)
        }
        self.authentication = AuthenticationState()
        self.usage = UsageCounters(day: UsageCounters.day(ofMilliseconds: clock.nowMilliseconds()))
        if let cached = tokenCache?.load(), cached.isFresh(at: clock.nowSeconds(), receivedAt: clock.nowSeconds()) {
            authentication.token = cached
            authentication.receivedAt = clock.nowSeconds()
        }
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
        return sims.first { $0.iccid == digits19 || $0.iccid == iccid.normalized || $0.iccidWithLuhn == iccid.withCheckDigit }
            ?? (sims.count == 1 ? sims[0] : nil)
    }

    /// One page of an event feed.
    public func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage {
        let path = feed.path
        var headers: [(String, String)] = []
        if let etag = query.ifNoneMatch { headers.append(("If-None-Match", etag)) }
        // Decoded once, inside the retry loop: a malformed page is retried like a failed request.
        var page: EventPage?
        let response = try await send(.get, path: path, query: query.items, headers: headers) { response throws(APIDecodingError) in
            page = response.status == 304 ? nil : try EventPage.decode(response)
        }
        guard let page else {
            return EventPage(events: [], rejected: [], paging: PagingHeaders(response: response), etag: query.ifNoneMatch, notModified: true)
        }
        return page
    }

    /// Every event of a feed in a time window, following the pages. Stops on a short or empty
    /// page, on a page that brings no new id (a server that ignores `page`) and at `maxPages`;
    /// never on the paging headers alone (they can lie, see `PagingHeaders`).
    public func events(
        _ feed: EventFeed, from: Int64, until: Int64, perPage: Int = 100, maxPages: Int = 1000
    ) async throws(EmnifyError) -> EventPage {
        var all = EventPage(events: [], rejected: [], paging: PagingHeaders(), etag: nil, notModified: false)
        var seen = Set<Int64>()
        var page = 1
        while page <= maxPages {
            var query = EventQuery(page: page, perPage: perPage, sort: "id")
            query.window = (from, until)
            let result = try await eventPage(feed, query: query)
            var new = 0
            for event in result.events where seen.insert(event.id).inserted {
                all.events.append(event)
                new += 1
            }
            all.rejected += result.rejected
            all.paging = result.paging
            let received = result.events.count + result.rejected.count
            if received < perPage { break }
            if page > 1 && new == 0 && result.rejected.isEmpty {
                logger.warning("the API repeated a page; paging stops", metadata: ["feed": "\(feed)", "page": "\(page)"])
                break
            }
            page += 1
        }
        return all
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
            return try JSONDecoder().decode([WireType].self, from: Data(response.body)).map { .init(id: $0.id, description: $0.description) }
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
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(response.body)), let status = wire.status?.description else {
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

    public var path: String {
        switch self {
        case .endpoint(let id): return "/api/v1/endpoint/\(id)/event"
        case .sim(let id): return "/api/v1/sim/\(id)/event"
        }
    }

    public var description: String {
        switch self {
        case .endpoint(let id): return "endpoint \(id)"
        case .sim(let id): return "SIM \(id)"
        }
    }
}
