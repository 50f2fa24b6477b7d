import EdgeCommon
import EdgeMQTT
import EmnifyAPI
import EmnifyEmulator
import Foundation
import Glibc
import Testing
import TestSupport

/// The delivery guarantee under abuse: the emulator produces events continuously while the
/// broker restarts, the agent is SIGKILLed and restarted, and every API fault kind and token
/// revocation is injected. Pass: every event produced was received at least once, duplicates
/// only around kills and restarts, first deliveries in time order.
///
/// CI runs 40 s; a developer runs the long version with
/// `EMNIFY_CHAOS_SECONDS=180 swift test --filter ChaosTests`.
@Suite(.serialized) struct ChaosTests {
    static var seconds: Int { Int(ProcessInfo.processInfo.environment["EMNIFY_CHAOS_SECONDS"] ?? "") ?? 40 }

    @Test(.timeLimit(.minutes(10))) func noEventIsLostWhateverHappens() async throws {
        let harness = try await AgentHarness(emulator: .init(tls: .selfSigned, seed: 7, history: 100, eventRate: 600))
        try await harness.subscribe()
        try harness.startAgent()
        try await harness.wait("the first events") { !harness.receivedEventIDs.isEmpty }
        let startedMillis = SystemWallClock().nowMilliseconds()

        var rng = SystemRandomNumberGenerator()
        var kills = 0, brokerRestarts = 0, faults = 0, revocations = 0, ungracefulBrokerStops = 0
        let faultKinds: [Fault] = [
            .tooManyRequests(retryAfterSeconds: 1), .tooManyRequests(retryAfterSeconds: nil), .internalServerError,
            .serviceUnavailableHTML, .stall(delay: .seconds(5)), .truncatedBody, .malformedJSON, .unauthorized,
        ]
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(Int.random(in: 1500...3500, using: &rng)))
            var action = Int.random(in: 0..<10, using: &rng)
            // EMNIFY_CHAOS_ONLY=broker|kill|revoke|fault narrows the chaos, to find what breaks.
            switch ProcessInfo.processInfo.environment["EMNIFY_CHAOS_ONLY"] {
            case "broker": action = 0
            case "kill": action = 2
            case "revoke": action = 4
            case "fault": action = 5
            default: break
            }
            switch action {
            case 0...1:
                if !harness.broker.stop() { ungracefulBrokerStops += 1 }
                try await Task.sleep(for: .milliseconds(Int.random(in: 300...2500, using: &rng)))
                try harness.broker.start()
                brokerRestarts += 1
            case 2...3:
                harness.agent?.kill()
                _ = await harness.agent?.wait(timeout: .seconds(5))
                try await Task.sleep(for: .milliseconds(Int.random(in: 100...1500, using: &rng)))
                try harness.startAgent()
                kills += 1
            case 4:
                await harness.emulator.control.revokeTokens()
                revocations += 1
            default:
                let fault = faultKinds.randomElement(using: &rng)!
                let path = Bool.random(using: &rng) ? "/api/v1/endpoint/*/event" : "/api/v1/sim/*/event"
                await harness.emulator.control.injectFault(fault, path: path, count: Int.random(in: 1...3, using: &rng))
                faults += 1
            }
        }
        await harness.emulator.control.clearFaults()
        if !harness.broker.isRunning { try harness.broker.start() }

        // Everything the two feeds hold from the agent's backfill start up to now must arrive.
        let cutoffSeconds = SystemWallClock().nowSeconds()
        let produced = try await Self.producedIDs(harness, from: startedMillis / 1000 - 3600, until: cutoffSeconds)
        do {
            try await harness.wait("every produced event", timeout: .seconds(90)) {
                Set(harness.receivedEventIDs).isSuperset(of: produced)
            }
        } catch {
            let missing = produced.subtracting(harness.receivedEventIDs)
            print("chaos: still missing \(missing.count) of \(produced.count): \(missing.sorted().prefix(20))")
            if let id = missing.sorted().first, let endpointID = harness.emulator.emulator.endpointID {
                let transport = try CurlTransport(
                    settings: .init(userAgent: "chaos-test", caFile: harness.emulator.caFile))
                let client = EmnifyClient(
                    configuration: .init(baseURL: harness.emulator.baseURL, applicationToken: harness.token),
                    transport: transport)
                let page = try await client.events(
                    .endpoint(endpointID), from: startedMillis / 1000 - 3600, until: cutoffSeconds, perPage: 1000)
                for event in page.events where event.id == id {
                    print("chaos: missing event JSON: \(String(decoding: event.raw, as: UTF8.self))")
                }
                let simPage = try await client.events(
                    .sim(harness.emulator.emulator.simID), from: startedMillis / 1000 - 3600, until: cutoffSeconds,
                    perPage: 1000)
                print(
                    "chaos: in endpoint feed: \(page.events.contains { $0.id == id }), in SIM feed: \(simPage.events.contains { $0.id == id })"
                )
            }
            print("chaos: agent log tail:\n\(harness.agent?.standardError.suffix(4000) ?? "")")
        }
        let received = harness.receivedEventIDs
        let unique = Set(received)
        let lost = produced.subtracting(unique)
        let duplicates = received.count - unique.count
        let violations = Self.orderViolations(harness.eventMessages)
        let counters = await harness.emulator.control.counters()
        print(
            """
            chaos: \(Self.seconds) s, produced \(produced.count), received \(unique.count) unique (\(received.count) messages), \
            lost \(lost.count), duplicated \(duplicates), agent kills \(kills), broker restarts \(brokerRestarts), \
            faults \(faults) (served \(counters.faultsServed)), token revocations \(revocations), order violations \(violations), broker stops needing SIGKILL \(ungracefulBrokerStops)
            """)
        #expect(lost.isEmpty)
        #expect(produced.count > 100)
        // At most one batch (a page of 200) in flight per interruption.
        #expect(duplicates <= (kills + brokerRestarts) * 200)
        #expect(violations == 0)
    }

    static func producedIDs(_ harness: AgentHarness, from: Int64, until: Int64) async throws -> Set<Int64> {
        let transport = try CurlTransport(settings: .init(userAgent: "chaos-test", caFile: harness.emulator.caFile))
        let client = EmnifyClient(
            configuration: .init(baseURL: harness.emulator.baseURL, applicationToken: harness.token),
            transport: transport)
        var ids = Set<Int64>()
        let emulator = harness.emulator.emulator
        if let endpointID = emulator.endpointID {
            ids.formUnion(
                try await client.events(.endpoint(endpointID), from: from, until: until, perPage: 1000).events.map(\.id)
            )
        }
        ids.formUnion(
            try await client.events(.sim(emulator.simID), from: from, until: until, perPage: 1000).events.map(\.id))
        return ids
    }

    /// First deliveries must be in time order within what one feed publishes (events naming the
    /// endpoint come from the endpoint feed, the others from the SIM feed).
    static func orderViolations(_ messages: [MQTTMessage]) -> Int {
        var seen = Set<Int64>()
        var last: [Bool: Int64] = [:]
        var violations = 0
        for message in messages {
            guard let event = try? EmnifyEvent(json: message.payload), seen.insert(event.id).inserted else { continue }
            let fromEndpointFeed = event.endpointID != nil
            let time = event.timestamp.millisecondsSinceEpoch
            if let previous = last[fromEndpointFeed], time < previous { violations += 1 }
            last[fromEndpointFeed] = time
        }
        return violations
    }
}
