import AgentTestSupport
import EdgeAgent
import EdgeCommon
import EmnifyAPI
import Synchronization

/// A publisher that pipelines as the MQTT connection does: `handOver` only records the batch, and the
/// batch counts as acknowledged when the agent awaits the acknowledgement it got back. Hand-overs are
/// numbered from 1 over the publisher's life; the tests choose by number which one fails.
final class PipeliningPublisher: MessagePublisher {
    struct Record {
        /// Event ids of each batch handed over, in order.
        var handedOver: [[Int64]] = []
        /// Event ids of each batch whose acknowledgement the agent awaited successfully, in that order.
        var acknowledged: [[Int64]] = []
        /// "hand over 1", "acknowledged 1", … in the order the agent did them.
        var trace: [String] = []
        var handOverCalls = 0
        /// Everything else (identity, state, health): published without pipelining.
        var published: [MQTTMessage] = []
    }

    let record = Mutex(Record())
    let failingHandOvers = Mutex<Set<Int>>([])
    let failingAcknowledgements = Mutex<Set<Int>>([])

    var snapshot: Record { record.withLock { $0 } }

    func publish(_ messages: [MQTTMessage]) async throws {
        record.withLock { $0.published.append(contentsOf: messages) }
    }

    func handOver(_ messages: [MQTTMessage]) async throws -> PublishAcknowledgement {
        let ids = messages.compactMap(\.eventID)
        let fails = failingHandOvers.withLock { $0 }
        let number = try record.withLock { record throws -> Int in
            record.handOverCalls += 1
            let number = record.handOverCalls
            if fails.contains(number) {
                record.trace.append("hand over \(number) failed")
                throw TestFailure.brokerDown
            }
            record.handedOver.append(ids)
            record.trace.append("hand over \(number)")
            return number
        }
        return PublishAcknowledgement { [self] in try acknowledge(number, ids: ids) }
    }

    private func acknowledge(_ number: Int, ids: [Int64]) throws {
        let fails = failingAcknowledgements.withLock { $0.contains(number) }
        try record.withLock { record throws in
            if fails {
                record.trace.append("acknowledgement \(number) failed")
                throw TestFailure.brokerDown
            }
            record.acknowledged.append(ids)
            record.trace.append("acknowledged \(number)")
        }
    }
}

/// The in-memory API, except that the request for one page number fails once (emnify answering 503).
final class OnePageFailingAPI: AgentAPI {
    let base: InMemoryAPI
    let failingPage = Mutex<Int?>(nil)

    init(_ base: InMemoryAPI) { self.base = base }

    func findSIM(iccid: ICCID) async throws(EmnifyError) -> SIM? { try await base.findSIM(iccid: iccid) }

    func eventPage(_ feed: EventFeed, query: EventQuery) async throws(EmnifyError) -> EventPage {
        let fails = failingPage.withLock { page in
            defer { if page == query.page { page = nil } }
            return page == query.page
        }
        if fails { throw .serverError(status: 503, path: "/api/v1/endpoint/event", snippet: "unavailable") }
        return try await base.eventPage(feed, query: query)
    }

    var usage: UsageCounters { get async { await base.usage } }
    func apiTimeMilliseconds() async -> Int64 { await base.apiTimeMilliseconds() }
    var clockOffsetMillis: Int64? { get async { nil } }
}

/// What both pipelining suites start from: SIM 500 on endpoint 900 ("gw") in the API, and an agent
/// with pages of 10, so that a few dozen events make several batches.
struct PipeliningSetup {
    let clock = TestClock()
    let api: InMemoryAPI
    let publisher = PipeliningPublisher()
    let stateDirectory = temporaryDirectory()

    init() {
        api = InMemoryAPI(clock: clock)
        api.data.withLock {
            $0.sims["8988307000001234567"] = SIM(
                id: 500, iccid: "8988307000001234567", endpoint: .init(id: 900, name: "gw"))
        }
    }

    func agent(api: (any AgentAPI)? = nil) -> Agent {
        var settings = AgentSettings()
        settings.stateDirectory = stateDirectory
        settings.pageSize = 10
        let identity = AgentIdentity(iccid: try! ICCID(parsing: "89883070000012345674"), source: "static")
        return Agent(
            settings: settings, api: api ?? self.api, identity: FixedIdentity(identity: identity), publisher: publisher,
            clock: clock)
    }
}
