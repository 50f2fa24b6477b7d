import EdgeCommon
import EmnifyAPI
import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// Hostile answers from a real HTTP(S) server on loopback (the emulator's `raw`, `trickle` and
/// `headers` faults) through the real client (`EmnifyClient` over `CurlTransport`): each ends in
/// a value or a typed error, in bounded time and bounded memory.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AdversarialResponseTests {
    static let feedPath = "/api/v1/endpoint/*/event"
    static let defaultCap = 8 << 20

    func start(history: Int = 0, tls: EmulatorServer.TLSMode = .selfSigned) async throws -> TestEmulator {
        try await TestEmulator.start(.init(tls: tls, applicationToken: "app-token", history: history))
    }

    func client(
        _ emulator: TestEmulator, timeout: Duration = .seconds(10), maxResponse: Int = defaultCap, attempts: Int = 2
    ) throws -> EmnifyClient {
        let transport = try CurlTransport(
            settings: .init(
                userAgent: "emnify-edge/test", caFile: emulator.caFile, connectTimeout: .seconds(5),
                totalTimeout: timeout,
                maxResponseSize: maxResponse))
        let retry = RetryPolicy(
            maxAttempts: attempts, backoff: Backoff(base: .milliseconds(20), factor: 2, cap: .milliseconds(100)))
        return EmnifyClient(
            configuration: .init(baseURL: emulator.baseURL, applicationToken: "app-token", retry: retry),
            transport: transport)
    }

    func feed(_ emulator: TestEmulator) throws -> EventFeed {
        .endpoint(try #require(emulator.emulator.endpointID))
    }

    static func event(_ id: String, description: String = "ok") -> String {
        #"{"id":\#(id),"timestamp":"2021-10-27T08:38:02.000Z","alert":false,"description":"\#(description)","event_type":{"id":3,"description":"Create PDP Context"}}"#
    }

    /// A page answered verbatim, once per matching request (`count` requests).
    func serve(_ emulator: TestEmulator, _ body: [UInt8], status: Int = 200, count: Int = 1, path: String = feedPath)
        async
    {
        await emulator.control.injectFault(.raw(RawAnswer(status: status, body: body)), path: path, count: count)
    }

    // MARK: - Size

    /// 64 MB of JSON whitespace inside `[` `]`, with and without `Content-Length`. With the
    /// length libcurl refuses at the head (CURLOPT_MAXFILESIZE); without it the body sink stops
    /// at the cap (8 MiB, the default). A typed, non-transient error (no retry), and this
    /// process's resident memory grows by less than the body: the emulator runs as its own
    /// process here (`emnify-emulator serve`, armed through `/_emulator/faults`), so the figure
    /// is the client's alone (a buffered 64 MB body would add at least 64 MB).
    @Test(arguments: [true, false])
    func aSixtyFourMegabyteBodyStopsAtTheCap(declareLength: Bool) async throws {
        let server = try RunningProcess(
            BuiltProducts.path(of: "emnify-emulator"),
            ["serve", "--tls", "none", "--token", "app-token", "--history", "0"])
        defer { server.kill() }
        let ready = try await server.waitForLine(prefix: "EMULATOR_READY")
        var fields: [String: String] = [:]
        for part in ready.split(separator: " ").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        let baseURL = try #require(fields["url"])
        let feed = EventFeed.endpoint(try #require(fields["endpoint_id"].flatMap { Int64($0) }))
        let transport = try CurlTransport(
            settings: .init(userAgent: "emnify-edge/test", connectTimeout: .seconds(5), totalTimeout: .seconds(20)))
        let retry = RetryPolicy(
            maxAttempts: 2, backoff: Backoff(base: .milliseconds(20), factor: 2, cap: .milliseconds(100)))
        let api = EmnifyClient(
            configuration: .init(baseURL: baseURL, applicationToken: "app-token", retry: retry), transport: transport)
        _ = try await api.eventPage(feed, query: EventQuery(perPage: 1))  // authenticated, connection warm

        let chunk = Data(repeating: 0x20, count: 64 * 1024).base64EncodedString()
        let arm = try await Curl.request(
            baseURL + "/_emulator/faults", method: "POST",
            body:
                #"{"kind":"raw","path":"/api/v1/endpoint/*/event","count":1,"body_base64":"\#(chunk)","repeat":1024,"declare_length":\#(declareLength)}"#
        )
        #expect(arm.status == 204, "\(arm.bodyText)")
        // Memory is not measured here: this process runs other tests in parallel, so its resident
        // size is not this request's (it failed one run in eight). The agent's own process is
        // measured through the same answer in HostileAnswerTests.
        let started = ContinuousClock.now
        do {
            _ = try await api.eventPage(feed, query: EventQuery())
            Issue.record("a 64 MB answer was accepted")
        } catch {
            guard case .transport(.responseTooLarge(Self.defaultCap), _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.contains("max_response_size"))
        }
        #expect(ContinuousClock.now - started < .seconds(15))
        let counters = try #require(
            try await Curl.request(baseURL + "/_emulator/counters").jsonObject() as? [String: Any])
        #expect(counters["faults_served"] as? Int == 1, "a refused size is not retried")
        // The client is still usable afterwards (the broken connection is replaced).
        #expect(try await api.eventPage(feed, query: EventQuery(perPage: 1)).events.count <= 1)
    }

    // MARK: - Structure

    /// 100,000 levels of `[` as a whole page, and as one event among valid ones: no stack
    /// overflow; the too-deep element is set aside and its neighbours are read.
    @Test func deeplyNestedJSONIsSetAsideNotRecursedInto() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let feed = try feed(emulator)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        await serve(emulator, Array("[\(deep)]".utf8))
        let alone = try await api.eventPage(feed, query: EventQuery())
        #expect(alone.events.isEmpty && alone.rejected.count == 1)
        #expect(alone.rejected.first?.reason.contains("nested deeper than 64") == true)

        let nestedDetail =
            #"{"id":7,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3},"detail":"#
            + String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70) + "}"
        await serve(emulator, Array("[\(Self.event("5")),\(nestedDetail),\(Self.event("9"))]".utf8))
        let mixed = try await api.eventPage(feed, query: EventQuery())
        #expect(mixed.events.map(\.id) == [5, 9])
        #expect(mixed.rejected.map(\.index) == [1])

        // The same depth where the client decodes a whole body (SIM lookup, error messages).
        await serve(emulator, Array(deep.utf8), path: "/api/v1/sim")
        let iccid = try ICCID(parsing: emulator.emulator.iccid)
        do {
            _ = try await api.findSIM(iccid: iccid)
            Issue.record("a nested SIM list was accepted")
        } catch {
            guard case .malformedResponse = error else { Issue.record("unexpected \(error)"); return }
        }
        await serve(emulator, Array(#"{"message":\#(deep)}"#.utf8), status: 422)
        do {
            _ = try await api.eventPage(feed, query: EventQuery())
            Issue.record("a 422 was accepted")
        } catch {
            guard case .badRequest(422, _, _) = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    /// Bytes that are not UTF-8 inside a string and between values: the page is read, the
    /// broken event is either kept byte for byte or set aside, never a crash or a lost neighbour.
    @Test func invalidUTF8NeverCrashesAndSparesTheNeighbours() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let feed = try feed(emulator)
        let broken =
            Array(#"{"id":11,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3},"description":"bad "#.utf8)
            + [0xFF, 0xFE, 0xC3] + Array(#""}"#.utf8)  // not UTF-8; the last is a lone lead byte
        let outside =
            Array(#"{"id":12,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3},"x":"#.utf8) + [0xFF]
            + Array("}".utf8)
        var body = Array("[".utf8) + broken + Array(",".utf8) + outside + Array(",".utf8)
        body += Array(Self.event("13").utf8) + Array("]".utf8)
        await serve(emulator, body)
        let page = try await api.eventPage(feed, query: EventQuery())
        #expect(page.events.contains { $0.id == 13 }, "the valid neighbour is read")
        #expect(page.events.count + page.rejected.count == 3, "every element is accounted for")
        if let kept = page.events.first(where: { $0.id == 11 }) {
            #expect(kept.raw == broken, "kept, then byte for byte")
        } else {
            #expect(page.rejected.contains { $0.raw == broken })
        }
        #expect(!page.events.contains { $0.id == 12 }, "a non-UTF-8 byte as a value is not JSON")
        #expect(page.rejected.contains { $0.raw == outside })
    }

    /// Ids past 64 bits (either sign, or as an exponent) are set aside with a reason, never
    /// rounded or truncated; the largest 64-bit id stays exact.
    @Test func idsThatDoNotFitSixtyFourBitsAreRejectedNotRounded() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let huge = ["18446744073709551616", "9223372036854775808", "-9223372036854775809", "1e400"]
        let body = "[" + (huge + ["9223372036854775807"]).map { Self.event($0) }.joined(separator: ",") + "]"
        await serve(emulator, Array(body.utf8))
        let page = try await api.eventPage(try feed(emulator), query: EventQuery())
        #expect(page.events.map(\.id) == [Int64.max])
        #expect(page.rejected.map(\.index) == [0, 1, 2, 3])
        for (rejected, id) in zip(page.rejected, huge) {
            // FoundationEssentials' JSONDecoder refuses such a number while parsing, before `id`.
            #expect(!rejected.reason.isEmpty)
            #expect(String(decoding: rejected.raw, as: UTF8.self) == Self.event(id), "kept byte for byte for the log")
        }
    }

    @Test func eventsWithoutAUsableIdAreRejectedWithAReason() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let noID = #"{"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3}}"#
        let nullID = #"{"id":null,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3}}"#
        let textID = #"{"id":"42","timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3}}"#
        await serve(emulator, Array("[\(noID),\(nullID),\(textID),\(Self.event("43"))]".utf8))
        let page = try await api.eventPage(try feed(emulator), query: EventQuery())
        #expect(page.events.map(\.id) == [43])
        #expect(page.rejected.map(\.reason).prefix(2) == ["it has no id", "it has no id"])
        #expect(page.rejected.last?.reason.hasPrefix("id") == true, "\(page.rejected.map(\.reason))")
    }

    // MARK: - Paging

    /// 25 events in pages of 10, under paging headers that lie: too many pages, negative,
    /// garbage, overflowing, and too few (which once ended the loop after the first page: the
    /// readers trusted `X-Total-Pages`).
    @Test(arguments: [
        ["X-Total-Pages": "1000000", "X-Total-Count": "99999999"],
        ["X-Total-Pages": "-3", "X-Total-Count": "-1", "X-Current-Page": "-7"],
        ["X-Total-Pages": "three", "X-Total-Count": "1e9", "X-Count-Per-Page": "ten"],
        ["X-Total-Pages": "99999999999999999999999", "X-Total-Count": "99999999999999999999999"],
        ["X-Total-Pages": "1", "X-Total-Count": "10"],
        ["X-Total-Pages": "0", "X-Total-Count": "0"],
    ])
    func lyingPagingHeadersNeitherLoseEventsNorLoop(headers: [String: String]) async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let feed = try feed(emulator)
        let injected = await emulator.control.inject(.updateLocation, count: 25)
        await emulator.control.injectFault(.overrideHeaders(headers), path: Self.feedPath, count: 1000)
        let now = Int64(Date().timeIntervalSince1970)
        let all = try await api.events(feed, from: now - 3600, until: now + 3600, perPage: 10)
        #expect(all.events.map(\.id).sorted() == injected.sorted())
        #expect(await emulator.control.counters().faultsServed == 3, "pages of 10, 10 and 5: three requests")
    }

    /// A server that ignores `page` and answers the same full page for ever, claiming a million
    /// pages: the reader stops at the first page that brings nothing new.
    @Test func aServerRepeatingTheSamePageIsNotFollowedForever() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let page = "[" + (1...10).map { Self.event(String($0)) }.joined(separator: ",") + "]"
        await emulator.control.injectFault(
            .raw(
                RawAnswer(
                    headers: ["Content-Type": "application/json", "X-Total-Pages": "1000000"], body: Array(page.utf8))),
            path: Self.feedPath, count: 1000)
        let all = try await api.events(try feed(emulator), from: 0, until: 100, perPage: 10)
        #expect(all.events.map(\.id) == Array(1...10))
        #expect(await emulator.control.counters().faultsServed == 2)
    }

    // MARK: - Time

    /// A body that trickles one byte every 100 ms for ever ends by the total timeout, on every
    /// try, as a transient timeout error.
    @Test func anEndlessTrickleEndsByTheTimeout() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator, timeout: .seconds(2), attempts: 2)
        let feed = try feed(emulator)
        _ = try await api.eventPage(feed, query: EventQuery(perPage: 1))
        await emulator.control.injectFault(
            .trickle(interval: .milliseconds(100), byte: 0x20), path: Self.feedPath, count: 5)
        let started = ContinuousClock.now
        do {
            _ = try await api.eventPage(feed, query: EventQuery())
            Issue.record("an endless body ended")
        } catch {
            guard case .transport(.timedOut(_), _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.isTransient)
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .seconds(3.5) && elapsed < .seconds(30), "two tries of 2 s: \(elapsed)")
        let counters = await emulator.control.counters()
        #expect(counters.faultsServed == 2)
        #expect(counters.streamedBytes > 10, "bytes did trickle")
    }
}
