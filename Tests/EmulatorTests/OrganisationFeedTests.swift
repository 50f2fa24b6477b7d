import EmnifyEmulator
import Foundation
import TestSupport
import Testing

@Suite("Organisation: many SIMs, the org-wide and user event feeds")
struct OrganisationFeedTests {
    @Test func tenThousandSIMsHaveDistinctValidIdentities() async throws {
        var configuration = EmulatorServer.Configuration(tls: .none, applicationToken: "t", history: 0)
        configuration.sims = 10_000
        let test = try await TestEmulator.start(configuration)
        let fleet = await test.control.fleet()
        #expect(fleet.count == 10_000)
        var iccids = Set<String>()
        var imsis = Set<String>()
        var simIDs = Set<Int64>()
        var endpointIDs = Set<Int64>()
        for index in 0..<fleet.count {
            let sim = fleet.member(index)
            #expect(sim.iccid.count == 19 && sim.iccid.allSatisfy(\.isNumber), "\(sim.iccid)")
            #expect(sim.iccidWithLuhn == sim.iccid + String(Self.luhnDigit(sim.iccid)))
            #expect(sim.imsi.count == 15)
            iccids.insert(sim.iccid)
            imsis.insert(sim.imsi)
            simIDs.insert(sim.simID)
            if let endpoint = sim.endpointID { endpointIDs.insert(endpoint) }
            #expect(fleet.index(ofICCID: sim.iccid) == index)
            #expect(fleet.index(ofSimID: sim.simID) == index)
            #expect(fleet.index(ofIMSI: sim.imsi) == index)
        }
        #expect(iccids.count == 10_000 && imsis.count == 10_000 && simIDs.count == 10_000)
        #expect(endpointIDs.count == 10_000)
        // Over HTTP: the control API lists them and grows the fleet.
        let page = try await test.curl("/_emulator/sims?page=10&per_page=1000")
        let listed = try #require(try page.jsonObject() as? [String: Any])
        #expect(listed["count"] as? Int == 10_000)
        let last = try #require((listed["sims"] as? [[String: Any]])?.last)
        #expect(last["index"] as? Int == 9_999)
        #expect(last["iccid"] as? String == fleet.member(9_999).iccid)
        let grown = try await test.curl("/_emulator/sims", method: "POST", body: #"{"add":5}"#)
        #expect(grown.status == 200 && grown.bodyText == #"{"count":10005}"#)
        let shrink = try await test.curl("/_emulator/sims", method: "POST", body: #"{"count":3}"#)
        #expect(shrink.status == 400 && shrink.bodyText.contains("does not shrink"))
        await test.stop()
    }

    @Test func organisationFeedFiltersByICCIDEndpointTypeAndTime() async throws {
        var configuration = EmulatorServer.Configuration(tls: .none, applicationToken: "t", history: 0)
        configuration.sims = 20
        let test = try await TestEmulator.start(configuration)
        let token = try await test.authToken()
        let fleet = await test.control.fleet()
        let ids = (0..<20).map { fleet.member($0).simID }
        // 5 events for each SIM, through the control API.
        let generated = try await test.curl(
            "/_emulator/events/generate", method: "POST", body: #"{"count":100,"sims":\#(ids)}"#)
        #expect(generated.status == 200)
        let all = try await test.curl("/api/v1/event", token: token)
        #expect(all.headers["x-total-count"] == "100")

        let chosen = [1, 3, 5, 7, 11, 19].map { fleet.member($0) }
        let filter = chosen.map(\.iccid).joined(separator: "|")
        let six = try await test.curl("/api/v1/event?q=iccid:\(filter)", token: token)
        #expect(six.status == 200)
        let sixEvents = try six.jsonArray()
        #expect(sixEvents.count == 30)
        let iccidsSeen = Set(sixEvents.compactMap { ($0["sim"] as? [String: Any])?["iccid"] as? String })
        #expect(iccidsSeen == Set(chosen.map(\.iccid)))

        let seven = filter + "|" + fleet.member(2).iccid
        #expect(try await test.curl("/api/v1/event?q=iccid:\(seven)", token: token).status == 422)
        let withLuhn = try await test.curl("/api/v1/event?q=iccid:\(chosen[0].iccidWithLuhn)", token: token)
        #expect(withLuhn.status == 422 && withLuhn.bodyText.contains("19 digits"))
        let unknown = try await test.curl("/api/v1/event?q=iccid:8988303000000000000", token: token)
        #expect(unknown.status == 200 && unknown.bodyText == "[]")

        let imsis = chosen.prefix(2).map(\.imsi).joined(separator: "|")
        let byIMSI = try await test.curl("/api/v1/event?q=imsi:\(imsis)", token: token).jsonArray()
        #expect(byIMSI.count == 10)
        #expect(
            Set(byIMSI.compactMap { ($0["imsi"] as? [String: Any])?["imsi"] as? String })
                == Set(chosen.prefix(2).map(\.imsi)))
        let byLuhn = try await test.curl("/api/v1/event?q=iccid_with_luhn:\(chosen[3].iccidWithLuhn)", token: token)
        #expect(try byLuhn.jsonArray().count == 5)
        let both = "iccid:\(chosen[0].iccid),imsi:\(chosen[1].imsi)"
        #expect(try await test.curl("/api/v1/event?q=\(both)", token: token).bodyText == "[]")

        let endpoint = try #require(chosen[2].endpointID)
        let byEndpoint = try await test.curl("/api/v1/event?q=endpoint:\(endpoint)", token: token).jsonArray()
        #expect(byEndpoint.count == 5)
        #expect(
            byEndpoint.allSatisfy { (($0["endpoint"] as? [String: Any])?["id"] as? NSNumber)?.int64Value == endpoint })

        let network = try await test.curl("/api/v1/event?q=type:1|2,severity:0", token: token).jsonArray()
        #expect(!network.isEmpty)
        #expect(network.allSatisfy { [1, 2].contains(($0["event_type"] as? [String: Any])?["id"] as? Int ?? -1) })

        let window = "from:2000-01-01T00:00:00Z,until:2999-01-01T00:00:00Z"
        #expect(try await test.curl("/api/v1/event?q=\(window)", token: token).jsonArray().count == 100)
        let past = "from:2000-01-01T00:00:00Z,until:2000-01-02T00:00:00Z"
        #expect(try await test.curl("/api/v1/event?q=\(past)", token: token).bodyText == "[]")
        #expect(try await test.curl("/api/v1/event?q=until:2999-01-01T00:00:00Z", token: token).status == 422)

        // A SIM's own feed has only its events.
        let simFeed = try await test.curl("/api/v1/sim/\(chosen[4].simID)/event", token: token).jsonArray()
        #expect(simFeed.count == 5)
        #expect(
            simFeed.allSatisfy { (($0["sim"] as? [String: Any])?["id"] as? NSNumber)?.int64Value == chosen[4].simID })
        #expect(await test.control.counters().requests("/api/v1/event") == 13)
        await test.stop()
    }

    @Test func organisationFeedPagesSortsAndRepeatsTheLastPage() async throws {
        var configuration = EmulatorServer.Configuration(tls: .none, applicationToken: "t", history: 0)
        configuration.sims = 50
        let test = try await TestEmulator.start(configuration)
        let token = try await test.authToken()
        _ = try await test.control.generate(count: 25, sims: .random)
        let page2 = try await test.curl("/api/v1/event?page=2&per_page=10&sort=-id", token: token)
        #expect(page2.headers["x-total-count"] == "25")
        #expect(page2.headers["x-total-pages"] == "3")
        #expect(page2.headers["x-current-page"] == "2")
        #expect(page2.headers["x-sort"] == "-id")
        #expect(page2.headers["link"] == "")
        let ids = try page2.jsonArray().compactMap { ($0["id"] as? NSNumber)?.int64Value }
        #expect(ids.count == 10 && ids == ids.sorted(by: >))
        let last = try await test.curl("/api/v1/event?page=3&per_page=10&sort=-id", token: token)
        let beyond = try await test.curl("/api/v1/event?page=7&per_page=10&sort=-id", token: token)
        #expect(try last.jsonArray().count == 5)
        #expect(beyond.status == 200 && beyond.body == last.body)
        let etag = try #require(last.headers["etag"])
        let unchanged = try await test.curl(
            "/api/v1/event?page=3&per_page=10&sort=-id", headers: ["If-None-Match: \(etag)"], token: token)
        #expect(unchanged.status == 304)
        let byTime = try await test.curl("/api/v1/event?sort=timestamp", token: token).jsonArray()
        let times = byTime.compactMap { $0["timestamp"] as? String }.map { $0.prefix(19) }
        #expect(times.count == 25 && times == times.sorted())
        let gzip = try await test.curl("/api/v1/event", headers: ["Accept-Encoding: gzip"], token: token)
        #expect(gzip.headers["content-encoding"] == "gzip")
        await test.stop()
    }

    @Test func eventsForAChosenSIMAtARateAndTheSIMLookup() async throws {
        var configuration = EmulatorServer.Configuration(tls: .none, applicationToken: "t", history: 0)
        configuration.sims = 100
        let test = try await TestEmulator.start(configuration)
        let token = try await test.authToken()
        let sim = await test.control.fleet().member(42)
        let injected = try await test.curl(
            "/_emulator/events", method: "POST", body: #"{"type":"update_location","count":2,"sim_id":\#(sim.simID)}"#)
        let ids = try #require(try injected.jsonObject() as? [String: Any])["ids"] as? [NSNumber]
        let feed = try await test.curl("/api/v1/sim/\(sim.simID)/event", token: token).jsonArray()
        #expect(feed.compactMap { ($0["id"] as? NSNumber)?.int64Value } == ids?.map(\.int64Value))
        #expect(feed.allSatisfy { ($0["imsi"] as? [String: Any])?["imsi"] as? String == sim.imsi })
        let unknown = try await test.curl("/_emulator/events", method: "POST", body: #"{"sim_id":12345}"#)
        #expect(unknown.status == 400 && unknown.bodyText.contains("12345"))

        let scheduled = try await test.curl(
            "/_emulator/events/generate", method: "POST", body: #"{"count":30,"rate":200,"sims":"random"}"#)
        #expect(scheduled.bodyText == #"{"scheduled":30}"#)
        let deadline = ContinuousClock.now + .seconds(60)
        while await test.control.eventCount() < 32, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await test.control.eventCount() == 32)

        let found = try await test.curl("/api/v1/sim?q=iccid:\(sim.iccid)", token: token).jsonArray()
        #expect(found.count == 1 && (found.first?["id"] as? NSNumber)?.int64Value == sim.simID)
        #expect(found.first?["iccid_with_luhn"] as? String == sim.iccidWithLuhn)
        let page = try await test.curl("/api/v1/sim?per_page=30&page=4", token: token)
        #expect(page.headers["x-total-count"] == "100")
        #expect(try page.jsonArray().count == 10)
        await test.stop()
    }

    /// emnify's documented "User verified" example (41-user-verified-1.json), its ids kept.
    static let documentedUserEvent = #"""
        {"timestamp":"2021-12-20T00:12:23.000Z","alert":false,"description":"User 'user@sample.com' verified successfully","id":85170815043,"event_type":{"id":41,"description":"User verified"},"event_source":{"id":2,"description":"API"},"event_severity":{"id":0,"description":"Info"},"organisation":{"id":14543,"name":"Sample Corp"},"user":{"id":676919,"name":"Sample User","username":"user@sample.com"}}
        """#

    @Test func userAndOrganisationEventsShowInTheOrganisationFeedOnly() async throws {
        var configuration = EmulatorServer.Configuration(tls: .none, applicationToken: "t", history: 30)
        configuration.sims = 3
        let test = try await TestEmulator.start(configuration)
        let token = try await test.authToken()
        let verified = try #require(await test.control.inject(.userVerified).first)
        let updated = try #require(await test.control.inject(.organisationUpdated).first)
        let mfa = try #require(await test.control.inject(.multiFactorAuthentication).first)
        let documented = try await test.control.injectRaw(Self.documentedUserEvent)
        #expect(documented == 85_170_815_043)

        let organisation = try await test.curl("/api/v1/event?per_page=1000", token: token).jsonArray()
        func event(_ id: Int64) -> [String: Any]? {
            organisation.first { ($0["id"] as? NSNumber)?.int64Value == id }
        }
        let verifiedEvent = try #require(event(verified))
        #expect(verifiedEvent["sim"] == nil && verifiedEvent["endpoint"] == nil && verifiedEvent["imsi"] == nil)
        let user = try #require(((verifiedEvent["user"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
        let updatedEvent = try #require(event(updated))
        #expect(updatedEvent["user"] == nil && updatedEvent["sim"] == nil)
        #expect((updatedEvent["detail"] as? [String: Any])?["changed_data"] != nil)
        #expect(event(mfa) != nil && event(documented) != nil)

        let orgOnly: Set<Int64> = [verified, updated, mfa, documented]
        let fleet = await test.control.fleet()
        for index in 0..<fleet.count {
            let sim = fleet.member(index)
            let simFeed = try await test.curl("/api/v1/sim/\(sim.simID)/event?per_page=1000", token: token)
            let simIDs = Set(try simFeed.jsonArray().compactMap { ($0["id"] as? NSNumber)?.int64Value })
            #expect(simIDs.isDisjoint(with: orgOnly))
            if let endpoint = sim.endpointID {
                let endpointFeed = try await test.curl("/api/v1/endpoint/\(endpoint)/event", token: token)
                let endpointIDs = Set(try endpointFeed.jsonArray().compactMap { ($0["id"] as? NSNumber)?.int64Value })
                #expect(endpointIDs.isDisjoint(with: orgOnly))
            }
        }
        let userFeed = try await test.curl("/api/v1/user/\(user)/event", token: token).jsonArray()
        let userIDs = Set(userFeed.compactMap { ($0["id"] as? NSNumber)?.int64Value })
        #expect(userIDs.isSuperset(of: [verified, mfa]) && !userIDs.contains(updated) && !userIDs.contains(documented))
        let documentedFeed = try await test.curl("/api/v1/user/676919/event", token: token)
        #expect(try documentedFeed.jsonArray().compactMap { ($0["id"] as? NSNumber)?.int64Value } == [documented])
        #expect(try await test.curl("/api/v1/user/1/event", token: token).bodyText == "[]")
        #expect(await test.control.counters().requests("/api/v1/user/676919/event") == 1)
        await test.stop()
    }

    static func luhnDigit(_ payload: String) -> Int {
        var sum = 0
        for (index, character) in payload.reversed().enumerated() {
            let digit = character.wholeNumberValue ?? 0
            sum += index % 2 == 0 ? (digit * 2 > 9 ? digit * 2 - 9 : digit * 2) : digit
        }
        return (10 - sum % 10) % 10
    }
}
