import EdgeCommon
import EmnifyAPI
import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// The libcurl transport asks for HTTP/2 over TLS (`CURL_HTTP_VERSION_2TLS`): against the emulator
/// with `http2` on, ALPN picks h2, every request of a session shares one connection, and idle
/// polls are `304`s as over HTTP/1.1.
@Suite(.serialized) struct HTTP2ClientTests {
    /// The real libcurl transport, remembering the protocol of each answer (`TransferMetrics`).
    final class RecordingTransport: HTTPTransport, Sendable {
        let base: CurlTransport
        let versions = Locked<[String]>([])

        init(_ base: CurlTransport) { self.base = base }

        func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
            let response = try await base.send(request)
            versions.withLock { $0.append(response.metrics.httpVersion) }
            return response
        }
    }

    func client(_ emulator: TestEmulator) throws -> (EmnifyClient, RecordingTransport) {
        let transport = RecordingTransport(
            try CurlTransport(settings: .init(userAgent: "emnify-edge/test", caFile: emulator.caFile)))
        let client = EmnifyClient(
            configuration: .init(baseURL: emulator.baseURL, applicationToken: "app-token"), transport: transport)
        return (client, transport)
    }

    func start(http2: Bool, cdnHeaders: Bool = false) async throws -> TestEmulator {
        var configuration = EmulatorServer.Configuration(tls: .selfSigned, applicationToken: "app-token", history: 50)
        configuration.http2 = http2
        configuration.cdnHeaders = cdnHeaders
        return try await TestEmulator.start(configuration)
    }

    @Test(arguments: [false, true])
    func negotiatesH2AndIdlePollsAreNotModified(cdnHeaders: Bool) async throws {
        let emulator = try await start(http2: true, cdnHeaders: cdnHeaders)
        defer { Task { await emulator.stop() } }
        let (api, transport) = try client(emulator)
        let sim = try #require(try await api.findSIM(iccid: ICCID(parsing: emulator.emulator.iccid)))
        let endpointID = try #require(sim.endpoint?.id)
        let first = try await api.eventPage(.endpoint(endpointID), query: EventQuery())
        #expect(!first.events.isEmpty && !first.notModified)
        let etag = try #require(first.etag)
        for _ in 0..<3 {
            var query = EventQuery()
            query.ifNoneMatch = etag
            let idle = try await api.eventPage(.endpoint(endpointID), query: query)
            #expect(idle.notModified && idle.events.isEmpty)
        }
        let versions = transport.versions.withLock { $0 }
        #expect(versions.count >= 5)
        #expect(versions.allSatisfy { $0 == "HTTP/2" }, "\(versions)")
        let counters = await emulator.control.counters()
        #expect(counters.connections == 1, "every request a stream of one HTTP/2 connection")
        #expect(counters.totalRequests == versions.count)
    }

    /// The emulator's idle timeout over HTTP/2 is a GOAWAY (and a PING that the idle client answers
    /// only when it next reads): the next request goes out on a new connection.
    @Test func anIdleTimeoutOverH2MakesTheNextPollANewConnection() async throws {
        var configuration = EmulatorServer.Configuration(
            tls: .selfSigned, applicationToken: "app-token", history: 5, idleTimeout: .milliseconds(200))
        configuration.http2 = true
        let emulator = try await TestEmulator.start(configuration)
        defer { Task { await emulator.stop() } }
        let (api, transport) = try client(emulator)
        _ = try await api.eventTypes()
        #expect(await emulator.control.counters().connections == 1)
        // Ten times the timeout: the GOAWAY has long been sent, however loaded the machine.
        try await Task.sleep(for: .seconds(2))
        _ = try await api.eventTypes()
        #expect(await emulator.control.counters().connections == 2)
        #expect(transport.versions.withLock { $0 }.allSatisfy { $0 == "HTTP/2" })
    }

    @Test func withoutHTTP2OnTheServerItIsHTTP1() async throws {
        let emulator = try await start(http2: false)
        defer { Task { await emulator.stop() } }
        let (api, transport) = try client(emulator)
        _ = try await api.findSIM(iccid: ICCID(parsing: emulator.emulator.iccid))
        let versions = transport.versions.withLock { $0 }
        #expect(!versions.isEmpty && versions.allSatisfy { $0 == "HTTP/1.1" }, "\(versions)")
    }
}
