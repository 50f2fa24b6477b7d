import EmnifyEmulator
import Foundation
import TestSupport
import Testing

@Suite("Event generation")
struct GenerationTests {
    /// emnify's documented examples, copied into the repository from `shared/fixtures/` (the
    /// client's tests read the same copy).
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EmnifyAPITests/Fixtures/emnify-doc-events")

    @Test func seededGenerationIsDeterministic() async throws {
        let end = Date(timeIntervalSince1970: 1_700_000_000)
        let a = try await TestEmulator.start(
            .init(tls: .none, applicationToken: "t", seed: 42, history: 120, historyEnd: end))
        let b = try await TestEmulator.start(
            .init(tls: .none, applicationToken: "t", seed: 42, history: 120, historyEnd: end))
        let c = try await TestEmulator.start(
            .init(tls: .none, applicationToken: "t", seed: 43, history: 120, historyEnd: end))
        #expect(a.emulator.iccid == b.emulator.iccid && a.emulator.simID == b.emulator.simID)
        #expect(a.emulator.iccid != c.emulator.iccid)
        let bodyA = try await a.curl("/api/v1/event", authenticated: true).body
        let bodyB = try await b.curl("/api/v1/event", authenticated: true).body
        let bodyC = try await c.curl("/api/v1/event", authenticated: true).body
        #expect(bodyA == bodyB)
        #expect(bodyA != bodyC)
        #expect(a.baseURL != b.baseURL)
        for test in [a, b, c] { await test.stop() }
    }

    @Test func eventsHaveTheShapeOfTheDocumentedExamples() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 1000))
        for kind in EventKind.allCases { await test.control.inject(kind) }
        let events = try await test.curl("/api/v1/event?per_page=1000&sort=-id", authenticated: true).jsonArray()
        #expect(events.count == 1000)

        var examples: [Int: [[String: Any]]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path)
        where file.hasSuffix(".json") {
            let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(file))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let type = try #require((object["event_type"] as? [String: Any])?["id"] as? Int)
            examples[type, default: []].append(object)
        }
        var timestampStyles = Set<String>()
        var typesSeen = Set<Int>()
        for event in events {
            let type = try #require((event["event_type"] as? [String: Any])?["id"] as? Int)
            typesSeen.insert(type)
            let id = try #require((event["id"] as? NSNumber)?.int64Value)
            #expect(id > 1 << 48)
            let timestamp = try #require(event["timestamp"] as? String)
            timestampStyles.insert(timestamp.hasSuffix("Z") ? "Z" : timestamp.hasSuffix("+0000") ? "+0000" : timestamp)
            // No documented example of "Update location" (1); it has the shape of "Update GPRS location" (2).
            guard let candidates = examples[type == 1 ? 2 : type] else {
                Issue.record("generated type \(type) has no documented example")
                continue
            }
            // Same top-level keys (detail optional), and the same keys in the nested objects.
            let keys = Set(event.keys).subtracting(["detail"])
            #expect(
                candidates.contains { Set($0.keys).subtracting(["detail"]) == keys }, "type \(type): \(keys.sorted())")
            for nested in [
                "event_type", "event_source", "event_severity", "organisation", "endpoint", "sim", "imsi", "user",
            ] {
                guard let generated = event[nested] as? [String: Any] else { continue }
                let documented = candidates.compactMap { $0[nested] as? [String: Any] }
                #expect(documented.contains { Set($0.keys) == Set(generated.keys) }, "type \(type).\(nested)")
            }
            if let detail = event["detail"] as? [String: Any] {
                let documented = candidates.compactMap { $0["detail"] as? [String: Any] }
                if !documented.isEmpty {
                    #expect(documented.contains { Set($0.keys) == Set(detail.keys) }, "type \(type).detail")
                }
                if type == 3 || type == 5 {
                    let pdp = try #require(detail["pdp_context"] as? [String: Any])
                    #expect([1, 2, 6, 8, 9, 10].contains(pdp["rat_type"] as? Int ?? -1))
                    if let example = documented.first?["pdp_context"] as? [String: Any] {
                        #expect(Set(example.keys) == Set(pdp.keys))
                    }
                }
            }
        }
        #expect(timestampStyles == ["Z", "+0000"])
        #expect(typesSeen.isSuperset(of: [1, 2, 3, 5, 15]))
        await test.stop()
    }

    @Test func largeHistoryIsFast() async throws {
        let start = ContinuousClock.now
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 100_000))
        #expect(ContinuousClock.now - start < .seconds(20))
        #expect(await test.control.eventCount() == 100_000)
        let endpoint = try #require(test.emulator.endpointID)
        let page = try await test.curl("/api/v1/endpoint/\(endpoint)/event?per_page=1000&page=50", authenticated: true)
        #expect(page.status == 200)
        #expect(try page.jsonArray().count == 1000)
        await test.stop()
    }

    /// `historySpan` sets how far back the history reaches, whatever the number of events.
    @Test func historySpanBoundsTheOldestEvent() async throws {
        let end = Date(timeIntervalSince1970: 1_700_000_000)
        let test = try await TestEmulator.start(
            .init(tls: .none, applicationToken: "t", history: 2_000, historySpan: .seconds(3600), historyEnd: end))
        let oldest = try await test.curl("/api/v1/event?per_page=1&sort=timestamp", authenticated: true).jsonArray()
        let newest = try await test.curl("/api/v1/event?per_page=1&sort=-timestamp", authenticated: true).jsonArray()
        let first = try #require(oldest.first?["timestamp"] as? String)
        let last = try #require(newest.first?["timestamp"] as? String)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let span = try #require(formatter.date(from: last)).timeIntervalSince(try #require(formatter.date(from: first)))
        // The gaps are random (mean span / count, ±50 %): the sum lands near the span.
        #expect(span > 3600 * 0.9 && span < 3600 * 1.1, "history reaches back \(span) s")
        await test.stop()
    }

    @Test func liveEventRate() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 0, eventRate: 600))
        // 10 per second; poll (the machine may be busy with other tests).
        let deadline = ContinuousClock.now + .seconds(10)
        while await test.control.eventCount() < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await test.control.eventCount() >= 3)
        await test.stop()
    }

    @Test func connectivityStatusAndReset() async throws {
        let test = try await TestEmulator.start(
            .init(tls: .none, applicationToken: "t", history: 20, resetEventDelay: .milliseconds(50)))
        let token = try await test.authToken()
        let endpoint = try #require(test.emulator.endpointID)
        let path = "/api/v1/endpoint/\(endpoint)/connectivity"
        let status = try await test.curl(path, token: token).jsonObject() as? [String: Any]
        let description = (status?["status"] as? [String: Any])?["description"] as? String
        #expect(["ATTACHED", "ONLINE", "OFFLINE", "BLOCKED"].contains(description ?? ""))
        #expect(try await test.curl("/api/v1/endpoint/1/connectivity", token: token).status == 404)

        let before = await test.control.eventCount()
        let location = try await test.curl(path, method: "PATCH", body: #"{"location":null}"#, token: token)
        #expect(location.status == 204)
        let pdp = try await test.curl(path, method: "PATCH", body: #"{"pdp_context":null}"#, token: token)
        #expect(pdp.status == 204)
        var waited = 0
        while await test.control.eventCount() < before + 4, waited < 100 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        let recent = try await test.curl("/api/v1/endpoint/\(endpoint)/event?q=source:2&sort=id", token: token)
            .jsonArray()
        let types = recent.compactMap { ($0["event_type"] as? [String: Any])?["id"] as? Int }
        #expect(types.count == 4)
        #expect(types.firstIndex(of: 15)! < types.firstIndex(of: 1)!)  // purge before update location
        #expect(types.firstIndex(of: 5)! < types.firstIndex(of: 3)!)  // delete before create PDP
        #expect(try await test.curl(path, method: "PATCH", body: "{}", token: token).status == 422)
        await test.stop()
    }

    @Test func injectedRawAndLateEvents() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 5))
        let sim = test.emulator.simID
        let raw =
            #"{"timestamp":"2017-10-26T07:28:00.000+0000","alert":false,"description":"raw","event_type":{"id":0,"description":"Generic"},"sim":{"id":\#(sim)}}"#
        let id = try await test.control.injectRaw(raw)
        let events = try await test.curl("/api/v1/sim/\(sim)/event?sort=timestamp", authenticated: true).jsonArray()
        #expect((events.first?["id"] as? NSNumber)?.int64Value == id)
        #expect(events.first?["description"] as? String == "raw")
        let injected = try await test.curl(
            "/_emulator/events", method: "POST",
            body: #"{"type":"quota_threshold_reached","timestamp":"2021-10-27T09:06:50.000Z"}"#)
        #expect(injected.status == 200)
        let window = try await test.curl(
            "/api/v1/event?q=from:2021-10-27T00:00:00Z,until:2021-10-28T00:00:00Z,type:18", authenticated: true)
        #expect(try window.jsonArray().count == 1)
        await test.stop()
    }
}
