import EdgeCommon
@testable import EmnifyAPI
import Foundation
import Synchronization
import Testing

/// The gateway's wall clock (`wall`, set by hand like NTP or an operator would) and the monotonic
/// clock, which only `pass` moves; the API's true time is the monotonic time plus a fixed base.
final class GatewayClock: WallClock, MonotonicClock {
    private let elapsed = Mutex<Int64>(0)
    private let skew = Mutex<Int64>(0)
    static let apiBase: Int64 = 1_764_000_000_000

    init(skewSeconds: Int64 = 0) { set(skewSeconds: skewSeconds) }

    func monotonicMilliseconds() -> Int64 { 5_000_000 + elapsed.withLock { $0 } }
    func nowMilliseconds() -> Int64 { apiNow + skew.withLock { $0 } }
    var apiNow: Int64 { Self.apiBase + elapsed.withLock { $0 } }
    func pass(seconds: Int64) { elapsed.withLock { $0 += seconds * 1000 } }
    func set(skewSeconds: Int64) { skew.withLock { $0 = skewSeconds * 1000 } }

    /// `Date` as the API sends it: its own time, whole seconds.
    var httpDate: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(apiNow / 1000)))
    }
}

/// Token expiry and the API's time come from the API (its `Date` header, the JWT's `iat`/`exp`),
/// never from the gateway's clock (issue 14, defect 4).
@Suite struct GatewayClockTests {
    /// An emnify stand-in on the API's clock: JWTs with its `iat`, 401 for an expired one.
    final class API: Sendable {
        let clock: GatewayClock
        let lifetime: Int64
        let statuses = Mutex<[Int]>([])
        init(clock: GatewayClock, lifetime: Int64 = 4 * 3600) {
            self.clock = clock
            self.lifetime = lifetime
        }

        var transport: ScriptedTransport {
            ScriptedTransport { request, _ in
                let headers = ["date": self.clock.httpDate]
                if request.path == "/api/v1/authenticate" {
                    let jwt = TestJWT.make(issuedAt: self.clock.apiNow / 1000, lifetime: self.lifetime)
                    return .json(200, #"{"auth_token":"\#(jwt)"}"#, headers: headers)
                }
                let jwt = request.header("authorization").map { String($0.dropFirst("Bearer ".count)) } ?? ""
                let expired = (AuthToken(jwt: jwt).expiresAt ?? 0) <= self.clock.apiNow / 1000
                self.statuses.withLock { $0.append(expired ? 401 : 200) }
                return expired
                    ? .json(401, #"{"message":"Token is expired"}"#, headers: headers)
                    : .json(200, "[]", headers: headers)
            }
        }
    }

    func client(_ transport: ScriptedTransport, clock: GatewayClock, cache: String? = nil) -> EmnifyClient {
        EmnifyClient(
            configuration: .init(baseURL: "https://api.test", applicationToken: "app-token", tokenCachePath: cache),
            transport: transport, clock: clock, monotonic: clock, sleep: { _ in })
    }

    @Test(arguments: [0, 2 * 86_400, -2 * 86_400, 5 * 3600, -5 * 3600] as [Int64])
    func fiveHoursOfPollingLogInTwiceWhateverTheGatewayClockSays(skewSeconds: Int64) async throws {
        let clock = GatewayClock(skewSeconds: skewSeconds)
        let api = API(clock: clock)
        let transport = api.transport
        let client = client(transport, clock: clock)
        for _ in 0..<300 {
            _ = try await client.eventPage(.sim(1), query: EventQuery())
            clock.pass(seconds: 60)
        }
        #expect(transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 2, "the first login and one renewal")
        #expect(!api.statuses.withLock { $0 }.contains(401), "renewed before it expired, not after a 401")
        let apiTime = await client.apiTimeMilliseconds()
        #expect(abs(apiTime - clock.apiNow) <= 1000)
        let offset = try #require(await client.clockOffsetMillis)
        #expect(abs(offset + skewSeconds * 1000) <= 1000, "the offset is the API's clock minus the gateway's")
    }

    @Test func aClockSetWhileRunningChangesNeitherTheAPIsTimeNorTheTokensExpiry() async throws {
        let clock = GatewayClock(skewSeconds: 6 * 3600)
        let api = API(clock: clock)
        let transport = api.transport
        let client = client(transport, clock: clock)
        for minute in 0..<300 {
            // NTP syncs after 10 minutes; an operator sets the clock back a day after 2 hours.
            if minute == 10 { clock.set(skewSeconds: 0) }
            if minute == 120 { clock.set(skewSeconds: -86_400) }
            _ = try await client.eventPage(.sim(1), query: EventQuery())
            let apiTime = await client.apiTimeMilliseconds()
            #expect(abs(apiTime - clock.apiNow) <= 1000)
            clock.pass(seconds: 60)
        }
        #expect(transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 2)
        #expect(!api.statuses.withLock { $0 }.contains(401))
        #expect(await client.clockOffsetMillis.map { abs($0 - 86_400_000) <= 1000 } == true)
    }

    @Test func aCachedTokenIsTriedEvenWhenTheGatewayClockCallsItExpired() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = directory.appendingPathComponent("auth-token").path
        let clock = GatewayClock()
        let api = API(clock: clock)
        let transport = api.transport
        _ = try await client(transport, clock: clock, cache: cache).eventPage(.sim(1), query: EventQuery())
        // The next start: the gateway's clock is 2 days ahead, the token still valid for the API.
        clock.pass(seconds: 600)
        clock.set(skewSeconds: 2 * 86_400)
        _ = try await client(transport, clock: clock, cache: cache).eventPage(.sim(1), query: EventQuery())
        #expect(
            transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 1, "no login: the cached token still works"
        )
    }

    @Test func withoutADateHeaderTheFreshTokensIssueTimeIsTheAPIsTime() async throws {
        let clock = GatewayClock(skewSeconds: -2 * 86_400)
        let transport = ScriptedTransport { request, _ in
            request.path == "/api/v1/authenticate"
                ? .json(200, #"{"auth_token":"\#(TestJWT.make(issuedAt: clock.apiNow / 1000, lifetime: 3600))"}"#)
                : .json(200, "[]")
        }
        let client = client(transport, clock: clock)
        _ = try await client.eventPage(.sim(1), query: EventQuery())
        #expect(abs(await client.apiTimeMilliseconds() - clock.apiNow) <= 1000)
    }

    @Test func theAPIClockMovesOnlyForSamplesOutsideTheDateHeadersResolution() {
        var apiClock = APIClock()
        #expect(apiClock.now(monotonic: 0) == nil)
        let first = apiClock.record(dateHeader: "Sun, 06 Nov 1994 08:49:37 GMT", receivedAt: 1000)
        #expect(first)
        let later: Int64? = apiClock.now(monotonic: 3000)
        #expect(later == 784_111_779_500, "the middle of the header's second, moved on by the monotonic clock")
        let withinResolution = apiClock.record(dateHeader: "Sun, 06 Nov 1994 08:49:39 GMT", receivedAt: 3000)
        #expect(!withinResolution, "within the resolution")
        let set = apiClock.record(dateHeader: "Sun, 06 Nov 1994 08:59:39 GMT", receivedAt: 4000)
        #expect(set, "the API's clock was set")
        let garbage = apiClock.record(dateHeader: "not a date", receivedAt: 5000)
        #expect(!garbage)
    }
}
