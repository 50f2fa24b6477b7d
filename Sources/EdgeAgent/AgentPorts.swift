import EdgeCommon
import EmnifyAPI

/// What the agent needs of the emnify API (the real `EmnifyClient` in production).
public protocol AgentAPI: Sendable {
    func findSIM(iccid: ICCID) async throws(EmnifyError) -> SIM?
    func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage
    var usage: UsageCounters { get async }
    /// The API's time now, ms since the epoch (learnt from its answers; the local clock before).
    func apiTimeMilliseconds() async -> Int64
    /// The API's clock minus the gateway's, ms; nil before the API's first answer.
    var clockOffsetMillis: Int64? { get async }
}

extension EmnifyClient: AgentAPI {}

/// The SIM identity as the modem reports it.
public struct AgentIdentity: Sendable, Equatable, Codable {
    public var iccid: ICCID
    public var imei: String?
    public var imsi: String?
    /// e.g. `modemmanager /org/freedesktop/ModemManager1/Modem/0`, `at /dev/ttyUSB2`, `static`.
    public var source: String

    public init(iccid: ICCID, imei: String? = nil, imsi: String? = nil, source: String) {
        self.iccid = iccid
        self.imei = imei
        self.imsi = imsi
        self.source = source
    }
}

public protocol IdentityProvider: Sendable {
    func readIdentity() async throws -> AgentIdentity
}

/// Settings of the agent loop (from `[agent]` and `[mqtt] topic_prefix`).
public struct AgentSettings: Sendable {
    public var pollInterval: Duration = .seconds(60)
    public var backfill: Duration = .seconds(24 * 3600)
    public var lookBack: Duration = .seconds(600)
    /// What a poll reads again before the newest published event, for events that appear a
    /// moment late. The look-back window is read again only once per `fullReadPeriod`, in buckets
    /// whose ETags answer 304 unless an event arrived late (`FeedRead`): on a SIM with events every
    /// few seconds, reading the window as one query downloaded it again each time (both feeds).
    public var shortOverlap: Duration = .seconds(2)
    /// The length of the reconciliation buckets, aligned on the API's clock: once per bucket the
    /// look-back window is read again, so events later than `shortOverlap` (but within `lookBack`)
    /// are published at most about this much later.
    public var fullReadPeriod: Duration { max(lookBack / 2, .seconds(1)) }
    public var topicPrefix = "emnify"
    public var stateDirectory = "/var/lib/emnify-edge"
    /// After new events, poll this often for `fastPollPeriod` (connectivity changes come in bursts).
    public var fastPollInterval: Duration = .seconds(15)
    public var fastPollPeriod: Duration = .seconds(180)
    /// How often the modem identity is read again (SIM swaps).
    public var identityInterval: Duration = .seconds(300)
    /// emnify keeps events this long; a cursor older than that means a possible gap.
    public var retention: Duration = .seconds(30 * 86400)
    /// Where the events come from (`[agent] events`): the API's feeds, or the fleet's bridge.
    public var bridged = false
    /// Bridge mode: how long the bridge may bring nothing before the agent reads the API.
    public var quietLimit: Duration = .seconds(900)
    /// Events per page and per broker batch: the API's largest page, so a backfill makes few
    /// requests and waits for few broker acknowledgement rounds.
    public var pageSize = 1000

    public init() {}
}
