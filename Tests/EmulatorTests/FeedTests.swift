import EmnifyEmulator
import Foundation
import TestSupport
import Testing

@Suite("Event feeds: paging, sorting, filters")
struct FeedTests {
    @Test func pagingHeadersAndDefaultOrder() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 25))
        let token = try await test.authToken()
        let endpoint = try #require(test.emulator.endpointID)
        let page2 = try await test.curl("/api/v1/endpoint/\(endpoint)/event?page=2&per_page=10", token: token)
        #expect(page2.status == 200)
        #expect(page2.headers["x-total-count"] == "25")
        #expect(page2.headers["x-total-pages"] == "3")
        #expect(page2.headers["x-current-page"] == "2")
        #expect(page2.headers["x-count-per-page"] == "10")
        #expect(page2.headers["x-sort"] == "id")
        let events = try page2.jsonArray()
        #expect(events.count == 10)
        let ids = events.compactMap { ($0["id"] as? NSNumber)?.int64Value }
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0 > 1 << 48 })
        let last = try await test.curl("/api/v1/endpoint/\(endpoint)/event?page=3&per_page=10", token: token)
        #expect(try last.jsonArray().count == 5)
        let beyond = try await test.curl("/api/v1/endpoint/\(endpoint)/event?page=9&per_page=10", token: token)
        #expect(beyond.status == 200 && beyond.bodyText == "[]")
        await test.stop()
    }

    @Test func sorting() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 40))
        let token = try await test.authToken()
        // A late event: newest id, oldest timestamp.
        let late = await test.control.inject(.updateLocation, timestamp: Date(timeIntervalSinceNow: -40 * 86_400))
        let sim = test.emulator.simID
        let descending = try await test.curl("/api/v1/sim/\(sim)/event?sort=-id", token: token)
        #expect(descending.headers["x-sort"] == "-id")
        let ids = try descending.jsonArray().compactMap { ($0["id"] as? NSNumber)?.int64Value }
        #expect(ids == ids.sorted(by: >))
        #expect(ids.first == late.first)
        let byTime = try await test.curl("/api/v1/sim/\(sim)/event?sort=timestamp", token: token)
        let first = try #require(try byTime.jsonArray().first)
        #expect((first["id"] as? NSNumber)?.int64Value == late.first)
        for bad in ["sort=bogus", "per_page=0", "per_page=1001", "per_page=abc", "page=0", "page=-1"] {
            let result = try await test.curl("/api/v1/sim/\(sim)/event?\(bad)", token: token)
            #expect(result.status == 400, "\(bad)")
        }
        await test.stop()
    }

    @Test func filters() async throws {
        let end = Date(timeIntervalSince1970: 1_700_000_000)
        let test = try await TestEmulator.start(
            .init(tls: .none, applicationToken: "t", history: 200, historyEnd: end))
        let token = try await test.authToken()
        let endpoint = try #require(test.emulator.endpointID)
        let feed = "/api/v1/endpoint/\(endpoint)/event"
        let pdp = try await test.curl("\(feed)?q=type:3|5", token: token)
        let pdpEvents = try pdp.jsonArray()
        #expect(!pdpEvents.isEmpty)
        #expect(pdpEvents.allSatisfy { [3, 5].contains(($0["event_type"] as? [String: Any])?["id"] as? Int) })
        let network = try await test.curl("\(feed)?q=source:0,severity:0", token: token)
        #expect(try network.jsonArray().allSatisfy { ($0["event_source"] as? [String: Any])?["id"] as? Int == 0 })

        // from/until: the last 6 hours of the history.
        let all = try await test.curl("\(feed)?per_page=1000", token: token).jsonArray()
        let window = try await test.curl(
            "\(feed)?q=from:2023-11-14T16:13:20Z,until:2023-11-14T22:13:20Z", token: token)
        #expect(window.status == 200)
        let windowEvents = try window.jsonArray()
        #expect(!windowEvents.isEmpty && windowEvents.count < all.count)
        #expect(window.headers["x-total-count"] == String(windowEvents.count))

        for bad in [
            "q=from:2023-11-14T16:13:20Z", "q=until:2023-11-14T16:13:20Z",
            "q=from:2023-11-14,until:2023-11-15", "q=from:2023-11-14T16:13:20.000Z,until:2023-11-15T00:00:00Z",
            "q=colour:blue", "q=type:x", "q=nonsense",
        ] {
            let result = try await test.curl("\(feed)?\(bad)", token: token)
            #expect(result.status == 422, "\(bad)")
        }
        await test.stop()
    }

    /// The agent reads its look-back window again in closed time buckets (`FeedRead`): the same
    /// query of a window in the past keeps its ETag (a 304) while newer events arrive, and changes
    /// when an event appears in the window late.
    @Test func aWindowInThePastKeepsItsETagUntilALateEventLandsInIt() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 30))
        let token = try await test.authToken()
        let sim = test.emulator.simID
        let format = ISO8601DateFormatter()
        let now = Date()
        let window =
            "q=from:\(format.string(from: now.addingTimeInterval(-3 * 86_400))),"
            + "until:\(format.string(from: now.addingTimeInterval(-60)))"
        let path = "/api/v1/sim/\(sim)/event?page=1&per_page=1000&sort=timestamp,id&\(window)"
        let first = try await test.curl(path, token: token, extraArguments: ["--compressed"])
        #expect(first.status == 200)
        #expect(try !first.jsonArray().isEmpty)
        let etag = try #require(first.headers["etag"])
        await test.control.inject(.updateLocation)  // now: after the window
        let cached = try await test.curl(path, headers: ["If-None-Match: \(etag)"], token: token)
        #expect(cached.status == 304 && cached.body.isEmpty)
        await test.control.inject(.updateLocation, timestamp: now.addingTimeInterval(-3600))  // late, inside it
        let changed = try await test.curl(path, headers: ["If-None-Match: \(etag)"], token: token)
        #expect(changed.status == 200)
        #expect(changed.headers["etag"] != etag)
        await test.stop()
    }

    @Test func unknownIdsAnswerEmptyArray() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 10))
        let token = try await test.authToken()
        for path in ["/api/v1/endpoint/1/event", "/api/v1/sim/2/event", "/api/v1/endpoint/999999999999/event"] {
            let result = try await test.curl(path, token: token)
            #expect(result.status == 200, "\(path)")
            #expect(result.bodyText == "[]", "\(path)")
            #expect(result.headers["x-total-count"] == "0")
        }
        let notNumber = try await test.curl("/api/v1/endpoint/abc/event", token: token)
        #expect(notNumber.status == 400)
        let organisation = try await test.curl("/api/v1/event", token: token)
        #expect(try organisation.jsonArray().count == 10)
        let types = try await test.curl("/api/v1/event/type", token: token).jsonArray()
        #expect(types.contains { $0["id"] as? Int == 3 && $0["description"] as? String == "Create PDP Context" })
        await test.stop()
    }

    @Test func gzipAndETag() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 30))
        let token = try await test.authToken()
        let sim = test.emulator.simID
        let plain = try await test.curl("/api/v1/sim/\(sim)/event", token: token)
        let gzipped = try await test.curl("/api/v1/sim/\(sim)/event", token: token, extraArguments: ["--compressed"])
        #expect(gzipped.headers["content-encoding"] == "gzip")
        #expect(gzipped.headers["transfer-encoding"] == "chunked")
        #expect(gzipped.headers["vary"] == "Accept-Encoding")
        #expect(gzipped.body == plain.body)
        let etag = try #require(plain.headers["etag"])
        #expect(etag.hasPrefix("W/\""))
        let cached = try await test.curl("/api/v1/sim/\(sim)/event", headers: ["If-None-Match: \(etag)"], token: token)
        #expect(cached.status == 304)
        #expect(cached.body.isEmpty)
        await test.control.inject(.purgeLocation)
        let changed = try await test.curl("/api/v1/sim/\(sim)/event", headers: ["If-None-Match: \(etag)"], token: token)
        #expect(changed.status == 200)
        await test.stop()
    }
}
