import EdgeCommon
import EmnifyAPI
import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// The libcurl client against the emulator over real HTTPS: every fault kind, token expiry and
/// revocation in the middle of paging, and TLS verification failing.
@Suite(.serialized) struct ClientIntegrationTests {
    static let fastRetry = RetryPolicy(
        maxAttempts: 4, backoff: Backoff(base: .milliseconds(20), factor: 2, cap: .milliseconds(200)))

    func start(_ configure: (inout EmulatorServer.Configuration) -> Void = { _ in }) async throws -> TestEmulator {
        var configuration = EmulatorServer.Configuration(tls: .selfSigned, applicationToken: "app-token")
        configure(&configuration)
        return try await TestEmulator.start(configuration)
    }

    func client(
        _ emulator: TestEmulator, token: String = "app-token", timeout: Duration = .seconds(10),
        maxResponse: Int = 8 << 20,
        retry: RetryPolicy = fastRetry
    ) throws -> EmnifyClient {
        let transport = try CurlTransport(
            settings: .init(
                userAgent: "emnify-edge/test", caFile: emulator.caFile, connectTimeout: .seconds(5),
                totalTimeout: timeout,
                maxResponseSize: maxResponse))
        return EmnifyClient(
            configuration: .init(baseURL: emulator.baseURL, applicationToken: token, retry: retry), transport: transport
        )
    }

    func sim(_ client: EmnifyClient, _ emulator: TestEmulator) async throws -> SIM {
        try #require(try await client.findSIM(iccid: ICCID(parsing: emulator.emulator.iccid)))
    }

    @Test func readsSIMAndEveryPageOverOneKeptAliveConnection() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let sim = try await sim(api, emulator)
        #expect(sim.id == emulator.emulator.simID)
        #expect(sim.endpoint?.id == emulator.emulator.endpointID)
        let nineteen = try #require(ICCID(parsing: emulator.emulator.iccid).withoutCheckDigit)
        #expect(try await api.findSIM(iccid: ICCID(parsing: nineteen))?.id == sim.id)

        let endpointID = try #require(sim.endpoint?.id)
        let now = Int64(Date().timeIntervalSince1970)
        let all = try await api.events(.endpoint(endpointID), from: now - 30 * 86400, until: now + 3600, perPage: 40)
        let ids = all.events.map(\.id)
        #expect(ids.count > 40, "several pages")
        #expect(Set(ids).count == ids.count)
        #expect(all.rejected.isEmpty)
        let counters = await emulator.control.counters()
        #expect(counters.authentications == 1)
        #expect(counters.connections == 1, "one TLS connection for every request (keep-alive)")
        let usage = await api.usage
        #expect(usage.requests == counters.totalRequests && usage.bytesReceived > 0)
    }

    @Test func anUnknownEndpointIsAnEmptyFeedNotAnError() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let page = try await client(emulator).eventPage(.endpoint(999_999_999), query: EventQuery())
        #expect(page.events.isEmpty)
    }

    @Test(arguments: [
        Fault.tooManyRequests(retryAfterSeconds: 1), .tooManyRequests(retryAfterSeconds: nil), .internalServerError,
        .serviceUnavailableHTML, .truncatedBody, .malformedJSON, .unauthorized,
    ])
    func recoversFromEachFault(fault: Fault) async throws {
        // Two in a row, except 401: after one renewal a second 401 is final (tested below).
        let count = fault == .unauthorized ? 1 : 2
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let endpointID = try #require(try await sim(api, emulator).endpoint?.id)
        await emulator.control.injectFault(fault, path: "/api/v1/endpoint/*/event", count: count)
        let page = try await api.eventPage(.endpoint(endpointID), query: EventQuery(perPage: 20))
        #expect(page.events.count == 20)
        #expect(await emulator.control.counters().faultsServed == count)
    }

    @Test func a401AfterRenewalIsFinal() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let endpointID = try #require(try await sim(api, emulator).endpoint?.id)
        await emulator.control.injectFault(.unauthorized, path: "/api/v1/endpoint/*/event", count: 5)
        do {
            _ = try await api.eventPage(.endpoint(endpointID), query: EventQuery())
            Issue.record("expected a failure")
        } catch {
            guard case .unauthorized = error else { Issue.record("unexpected \(error)"); return }
        }
        #expect(await emulator.control.counters().authentications == 2, "one renewal, no loop")
    }

    @Test func aStalledResponseTimesOutAndIsRetried() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator, timeout: .seconds(1))
        let endpointID = try #require(try await sim(api, emulator).endpoint?.id)
        await emulator.control.injectFault(.stall(delay: nil), path: "/api/v1/endpoint/*/event", count: 1)
        let page = try await api.eventPage(.endpoint(endpointID), query: EventQuery(perPage: 5))
        #expect(page.events.count == 5)
    }

    @Test func persistentFaultsEndInATypedErrorThatSaysWhatToDo() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let endpointID = try #require(try await sim(api, emulator).endpoint?.id)
        await emulator.control.injectFault(.serviceUnavailableHTML, path: "/api/v1/endpoint/*/event", count: 10)
        do {
            _ = try await api.eventPage(.endpoint(endpointID), query: EventQuery())
            Issue.record("expected a failure")
        } catch {
            #expect(error.isTransient)
            #expect(error.description.contains("HTTP 503") && error.description.contains("retried with backoff"))
        }
    }

    @Test func tokenExpiryAndRevocationInTheMiddleOfPaging() async throws {
        let emulator = try await start { $0.tokenLifetime = .seconds(2) }
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let endpointID = try #require(try await sim(api, emulator).endpoint?.id)
        let first = try await api.eventPage(.endpoint(endpointID), query: EventQuery(page: 1, perPage: 10))
        try await Task.sleep(for: .milliseconds(2100))  // the JWT has expired
        let second = try await api.eventPage(.endpoint(endpointID), query: EventQuery(page: 2, perPage: 10))
        await emulator.control.revokeTokens()  // the server forgets it while the client still trusts it
        let third = try await api.eventPage(.endpoint(endpointID), query: EventQuery(page: 3, perPage: 10))
        let ids = (first.events + second.events + third.events).map(\.id)
        #expect(ids.count == 30 && Set(ids).count == 30)
        // Expiry and revocation renew once each. A slow run (the sanitizers) may renew once more
        // before the first page, when the SIM lookup took longer than the 1 s renewal margin.
        #expect((3...4).contains(await emulator.control.counters().authentications))
    }

    @Test func aWrongApplicationTokenFailsClearlyAndOnce() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator, token: "wrong-token")
        do {
            _ = try await api.eventPage(.endpoint(1), query: EventQuery())
            Issue.record("expected a failure")
        } catch {
            guard case .applicationTokenRejected(401, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("create a new application token"))
        }
        _ = try? await api.eventPage(.endpoint(1), query: EventQuery())
        #expect(await emulator.control.counters().failedAuthentications == 1, "the second call did not log in again")
    }

    @Test func anUntrustedCertificateIsRefused() async throws {
        let emulator = try await start { $0.tls = .untrusted }
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        do {
            _ = try await api.eventPage(.endpoint(1), query: EventQuery())
            Issue.record("an untrusted certificate was accepted")
        } catch {
            guard case .transport(.tlsVerificationFailed(_), _) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(!error.isTransient)
        }
    }

    @Test func theSystemTrustStoreDoesNotTrustTheEmulator() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let transport = try CurlTransport(settings: .init(userAgent: "emnify-edge/test"))  // no ca_file
        let api = EmnifyClient(
            configuration: .init(baseURL: emulator.baseURL, applicationToken: "app-token", retry: Self.fastRetry),
            transport: transport)
        await #expect(throws: EmnifyError.self) { try await api.eventPage(.endpoint(1), query: EventQuery()) }
    }

    @Test func anOversizedAnswerIsRefusedNotBuffered() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator, maxResponse: 16 * 1024)
        let endpointID = try #require(try await sim(api, emulator).endpoint?.id)
        do {
            _ = try await api.eventPage(.endpoint(endpointID), query: EventQuery(perPage: 1000))
            Issue.record("expected the size cap")
        } catch {
            guard case .transport(.responseTooLarge(16384), _) = error else {
                Issue.record("unexpected \(error)"); return
            }
        }
    }

    @Test func aClosedPortIsAClearConnectError() async throws {
        let transport = try CurlTransport(settings: .init(userAgent: "emnify-edge/test", connectTimeout: .seconds(2)))
        let api = EmnifyClient(
            configuration: .init(
                baseURL: "https://127.0.0.1:1", applicationToken: "t", retry: RetryPolicy(maxAttempts: 1)),
            transport: transport)
        do {
            _ = try await api.eventPage(.endpoint(1), query: EventQuery())
            Issue.record("a closed port answered")
        } catch {
            guard case .transport(.couldNotConnect(_), _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("check the data session"))
        }
    }

    @Test func connectivityStatusAndResetProduceEvents() async throws {
        let emulator = try await start()
        defer { Task { await emulator.stop() } }
        let api = try client(emulator)
        let endpointID = try #require(try await sim(api, emulator).endpoint?.id)
        let status = try await api.connectivity(endpointID: endpointID)
        #expect(["ATTACHED", "ONLINE", "OFFLINE", "BLOCKED"].contains(status.status))
        let before = await emulator.control.eventCount()
        try await api.resetConnectivity(endpointID: endpointID, .pdpContext)
        try await Task.sleep(for: .milliseconds(600))
        #expect(await emulator.control.eventCount() >= before + 2)
        let types = try await api.eventTypes()
        #expect(types.contains { $0.id == 3 })
    }
}

@Suite struct ConditionalRequestTests {
    @Test func anUnchangedFeedCostsA304WithoutBody() async throws {
        let emulator = try await TestEmulator.start(.init(tls: .selfSigned, applicationToken: "app-token"))
        defer { Task { await emulator.stop() } }
        let transport = try CurlTransport(settings: .init(userAgent: "emnify-edge/test", caFile: emulator.caFile))
        let api = EmnifyClient(
            configuration: .init(baseURL: emulator.baseURL, applicationToken: "app-token"), transport: transport)
        let endpoint = EventFeed.endpoint(try #require(emulator.emulator.endpointID))
        let first = try await api.eventPage(endpoint, query: EventQuery(perPage: 5, sort: "-id"))
        let etag = try #require(first.etag)
        var query = EventQuery(perPage: 5, sort: "-id")
        query.ifNoneMatch = etag
        let second = try await api.eventPage(endpoint, query: query)
        #expect(second.notModified && second.events.isEmpty)
        _ = await emulator.control.inject(.updateLocation)
        let third = try await api.eventPage(endpoint, query: query)
        #expect(!third.notModified)
    }
}

@Suite struct EndpointDetailsTests {
    @Test func readsTheEndpointStatus() async throws {
        let emulator = try await TestEmulator.start(.init(tls: .selfSigned, applicationToken: "app-token"))
        let transport = try CurlTransport(settings: .init(userAgent: "emnify-edge/test", caFile: emulator.caFile))
        let api = EmnifyClient(
            configuration: .init(baseURL: emulator.baseURL, applicationToken: "app-token"), transport: transport)
        let id = try #require(emulator.emulator.endpointID)
        let endpoint = try await api.endpoint(id: id)
        #expect(endpoint.id == id && ["Enabled", "Disabled"].contains(endpoint.status ?? ""))
        await #expect(throws: EmnifyError.self) { try await api.endpoint(id: id + 1) }
        await emulator.stop()
    }
}
