import EdgeCommon
@testable import EmnifyAPI
import Foundation
import Synchronization
import Testing

/// The client's decisions (authentication, retries, paging) against an in-memory transport.
@Suite struct ClientBehaviourTests {
    let clock = ManualClock()
    let sleeper = RecordingSleeper()

    func client(_ transport: ScriptedTransport, cache: String? = nil, token: String = "app-token", attempts: Int = 4)
        -> EmnifyClient
    {
        EmnifyClient(
            configuration: .init(
                baseURL: "https://api.test/", applicationToken: token, tokenCachePath: cache,
                retry: RetryPolicy(maxAttempts: attempts)),
            transport: transport, clock: clock, monotonic: clock, sleep: sleeper.sleeper)
    }

    func authAnswer(lifetime: Int64 = 14_400) -> HTTPResponse {
        .json(200, #"{"auth_token":"\#(TestJWT.make(issuedAt: clock.nowSeconds(), lifetime: lifetime))"}"#)
    }

    @Test func authenticatesOnceAndSendsTheBearerToken() async throws {
        let transport = ScriptedTransport { request, _ in
            request.path == "/api/v1/authenticate" ? self.authAnswer() : .json(200, "[]")
        }
        let api = client(transport)
        _ = try await api.eventPage(.endpoint(7), query: EventQuery())
        _ = try await api.eventPage(.sim(8), query: EventQuery())
        #expect(transport.paths == ["/api/v1/authenticate", "/api/v1/endpoint/7/event", "/api/v1/sim/8/event"])
        let body = String(decoding: transport.requests[0].body ?? [], as: UTF8.self)
        #expect(body == #"{"application_token":"app-token"}"#)
        #expect(transport.requests[1].header("Authorization")?.hasPrefix("Bearer ey") == true)
        let usage = await api.usage
        #expect(usage.requests == 3 && usage.authentications == 1)
    }

    @Test func renewsTheTokenShortlyBeforeItExpires() async throws {
        let transport = ScriptedTransport { request, _ in
            request.path == "/api/v1/authenticate" ? self.authAnswer(lifetime: 3600) : .json(200, "[]")
        }
        let api = client(transport)
        _ = try await api.eventPage(.sim(1), query: EventQuery())
        clock.advance(seconds: 3600 - 400)  // more than the 5-minute margin left
        _ = try await api.eventPage(.sim(1), query: EventQuery())
        #expect(transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 1)
        clock.advance(seconds: 200)  // inside the margin
        _ = try await api.eventPage(.sim(1), query: EventQuery())
        #expect(transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 2)
    }

    @Test func a401RenewsTheTokenOnceThenGivesUp() async throws {
        let transport = ScriptedTransport { request, _ in
            request.path == "/api/v1/authenticate" ? self.authAnswer() : .json(401, #"{"message":"token expired"}"#)
        }
        let api = client(transport)
        await #expect(throws: EmnifyError.self) { try await api.eventPage(.sim(1), query: EventQuery()) }
        #expect(
            transport.paths == [
                "/api/v1/authenticate", "/api/v1/sim/1/event", "/api/v1/authenticate", "/api/v1/sim/1/event",
            ])
    }

    @Test func aRevokedTokenIsReplacedTransparently() async throws {
        let revoked = Mutex(true)
        let transport = ScriptedTransport { request, _ in
            if request.path == "/api/v1/authenticate" { return self.authAnswer() }
            return revoked.withLock { flag in
                defer { flag = false }
                return flag ? .json(401, "") : .json(200, "[]")
            }
        }
        let api = client(transport)
        let page = try await api.eventPage(.sim(1), query: EventQuery())
        #expect(page.events.isEmpty)
        #expect(transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 2)
    }

    @Test func aRejectedApplicationTokenIsNeverRetriedInALoop() async throws {
        let transport = ScriptedTransport { _, _ in .json(401, #"{"message":"invalid application token"}"#) }
        let api = client(transport)
        do {
            _ = try await api.eventPage(.sim(1), query: EventQuery())
            Issue.record("expected a failure")
        } catch {
            guard case .applicationTokenRejected(401, "invalid application token") = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        for _ in 0..<5 {
            await #expect(throws: EmnifyError.self) { try await api.eventPage(.sim(1), query: EventQuery()) }
        }
        #expect(transport.requests.count == 1, "one login attempt, then suspended without calling emnify")
        clock.advance(seconds: 301)
        await #expect(throws: EmnifyError.self) { try await api.eventPage(.sim(1), query: EventQuery()) }
        #expect(transport.requests.count == 2, "a second attempt only after the pause")
    }

    @Test func honoursShortRetryAfterAndPassesLongOnesUp() async throws {
        let transport = ScriptedTransport { request, index in
            if request.path == "/api/v1/authenticate" { return self.authAnswer() }
            if index == 1 { return .json(429, "", headers: ["retry-after": "2"]) }
            if index == 3 { return .json(429, "", headers: ["retry-after": "3600"]) }
            return .json(200, "[]")
        }
        let api = client(transport)
        _ = try await api.eventPage(.sim(1), query: EventQuery())
        #expect(sleeper.recorded == [.seconds(2)])
        do {
            _ = try await api.eventPage(.sim(1), query: EventQuery())
            Issue.record("expected rate limiting")
        } catch {
            guard case .rateLimited(_, .some(let wait)) = error else { Issue.record("unexpected \(error)"); return }
            #expect(wait == .seconds(3600))
        }
    }

    @Test func retriesServerErrorsWithBackoffThenFails() async throws {
        let transport = ScriptedTransport { request, _ in
            request.path == "/api/v1/authenticate"
                ? self.authAnswer() : .json(503, "<html><body>Service Unavailable</body></html>")
        }
        let api = client(transport, attempts: 3)
        do {
            _ = try await api.eventPage(.sim(1), query: EventQuery())
            Issue.record("expected a failure")
        } catch {
            guard case .serverError(503, _, let snippet) = error else { Issue.record("unexpected \(error)"); return }
            #expect(snippet.contains("Service Unavailable"))
            #expect(error.isTransient)
        }
        #expect(transport.requests.count == 4)
        #expect(sleeper.recorded.count == 2)
        #expect(sleeper.recorded[1] > sleeper.recorded[0] / 2, "backoff grows")
    }

    @Test func retriesTruncatedAndMalformedBodies() async throws {
        let transport = ScriptedTransport { request, index throws(TransportError) in
            if request.path == "/api/v1/authenticate" { return self.authAnswer() }
            switch index {
            case 1: return .json(200, #"[{"id": 1, "timestamp": "2021-10"#)
            case 2: throw TransportError.truncatedBody("transfer closed with 300 bytes remaining")
            case 3: return .json(200, "<html>oops</html>")
            default:
                return .json(200, #"[{"id": 1, "timestamp": "2021-10-27T08:38:02.000Z", "event_type": {"id": 3}}]"#)
            }
        }
        let page = try await client(transport, attempts: 5).eventPage(.sim(1), query: EventQuery())
        #expect(page.events.map(\.id) == [1])
    }

    @Test func nonTransientTransportErrorsFailAtOnce() async throws {
        let transport = ScriptedTransport { _, _ throws(TransportError) in
            throw TransportError.tlsVerificationFailed("unable to get local issuer certificate")
        }
        await #expect(throws: EmnifyError.self) { try await client(transport).eventPage(.sim(1), query: EventQuery()) }
        #expect(transport.requests.count == 1)
    }

    @Test func keepsUndecodableEventsAsRejectedInsteadOfDroppingThem() async throws {
        let transport = ScriptedTransport { request, _ in
            request.path == "/api/v1/authenticate"
                ? self.authAnswer()
                : .json(
                    200,
                    #"[{"id": 1, "timestamp": "2021-10-27T08:38:02.000Z", "event_type": {"id": 3}}, {"timestamp": "x"}]"#
                )
        }
        let page = try await client(transport).eventPage(.sim(1), query: EventQuery())
        #expect(page.events.count == 1)
        #expect(page.rejected.count == 1 && page.rejected[0].raw == Array(#"{"timestamp": "x"}"#.utf8))
    }

    @Test func findsTheSIMByEitherICCIDForm() async throws {
        let transport = ScriptedTransport { request, _ in
            if request.path == "/api/v1/authenticate" { return self.authAnswer() }
            let q = request.queryItems["q"] ?? ""
            if q == "iccid_with_luhn:89883070000012345674" || q == "iccid:8988307000001234567" {
                return .json(
                    200,
                    #"[{"id": 42, "iccid": "8988307000001234567", "status": {"id": 1, "description": "Activated"}, "endpoint": {"id": 9, "name": "gw-1"}}]"#
                )
            }
            if q == "iccid:8988307000009999999" {
                return .json(
                    200, #"[{"id": 43, "iccid": "8988307000009999999", "status": {"id": 0, "description": "Issued"}}]"#)
            }
            return .json(200, "[]")
        }
        let api = client(transport)
        let twenty = try await api.findSIM(iccid: ICCID(parsing: "89883070000012345674F"))
        #expect(twenty?.id == 42 && twenty?.endpoint?.id == 9 && twenty?.status == "Activated")
        let nineteen = try await api.findSIM(iccid: ICCID(parsing: "8988307000001234567"))
        #expect(nineteen?.id == 42)
        let withoutEndpoint = try await api.findSIM(iccid: ICCID(parsing: "8988307000009999999"))
        #expect(withoutEndpoint?.id == 43 && withoutEndpoint?.endpoint == nil)
        #expect(try await api.findSIM(iccid: ICCID(parsing: "89883070000000000000")) == nil)
    }

    @Test func followsPagesAndStopsWhenHeadersLie() async throws {
        let transport = ScriptedTransport { request, _ in
            if request.path == "/api/v1/authenticate" { return self.authAnswer() }
            let page = Int(request.queryItems["page"]!)!
            let ids = page <= 2 ? [(page - 1) * 2 + 1, (page - 1) * 2 + 2] : page == 3 ? [5] : []
            let body =
                "["
                + ids.map { #"{"id": \#($0), "timestamp": "2021-10-27T08:38:02.000Z", "event_type": {"id": 3}}"# }
                .joined(separator: ",") + "]"
            // The headers claim 1000 pages and a negative count: the client must not trust them.
            return .json(
                200, body, headers: ["x-total-pages": "1000", "x-total-count": "-5", "x-current-page": "\(page)"])
        }
        let all = try await client(transport).events(.sim(1), from: 0, until: 100, perPage: 2)
        #expect(all.events.map(\.id) == [1, 2, 3, 4, 5])
        #expect(transport.paths.filter { $0.hasSuffix("/event") }.count == 3)
        #expect(all.paging.totalCount == nil)
        let q = transport.requests[1].queryItems["q"]
        #expect(q == "from:1970-01-01T00:00:00Z,until:1970-01-01T00:01:40Z")
    }

    @Test func cachesTheTokenOnDiskPrivatelyAndReusesIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = directory.appendingPathComponent("auth-token").path
        let transport = ScriptedTransport { request, _ in
            request.path == "/api/v1/authenticate" ? self.authAnswer() : .json(200, "[]")
        }
        _ = try await client(transport, cache: cache).eventPage(.sim(1), query: EventQuery())
        let attributes = try FileManager.default.attributesOfItem(atPath: cache)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // A restart reuses it: no second login.
        _ = try await client(transport, cache: cache).eventPage(.sim(1), query: EventQuery())
        #expect(transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 1)
        // Another application token must not reuse it.
        _ = try await client(transport, cache: cache, token: "other-token").eventPage(.sim(1), query: EventQuery())
        #expect(transport.paths.filter { $0 == "/api/v1/authenticate" }.count == 2)
    }

    @Test func tokenDescriptionNeverShowsTheToken() {
        let jwt = TestJWT.make(issuedAt: 1000, lifetime: 3600)
        let token = AuthToken(jwt: jwt)
        #expect(token.expiresAt == 4600 && token.issuedAt == 1000)
        #expect(!"\(token)".contains(jwt.prefix(10)))
    }
}
