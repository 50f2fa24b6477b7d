import EmnifyEmulator
import Foundation
import TestSupport
import Testing

/// `serve --http2` and `--cdn-headers`, with curl as the client: ALPN, the same answers over h2 as
/// over HTTP/1.1, and the CDN header block with ids that change per response.
@Suite("HTTP/2 and the CDN header block")
struct HTTP2Tests {
    static let cdnNames = [
        "x-amz-cf-id", "x-amz-cf-pop", "x-cache", "via", "x-amzn-requestid", "x-request-id", "x-amz-apigw-id",
        "x-amzn-trace-id", "strict-transport-security", "content-security-policy", "x-powered-by",
    ]

    func start(http2: Bool = true, cdnHeaders: Bool = false) async throws -> TestEmulator {
        var configuration = EmulatorServer.Configuration(tls: .selfSigned, applicationToken: "t", history: 30)
        configuration.http2 = http2
        configuration.cdnHeaders = cdnHeaders
        return try await TestEmulator.start(configuration)
    }

    @Test func alpnNegotiatesH2AndTheAnswersAreThoseOfHTTP1() async throws {
        let test = try await start()
        let token = try await test.authToken()
        let feed = "/api/v1/sim/\(test.emulator.simID)/event"
        let overH2 = try await test.curl(feed, token: token, extraArguments: ["--http2"])
        let overHTTP1 = try await test.curl(feed, token: token, extraArguments: ["--http1.1"])
        #expect(overH2.exitCode == 0 && overH2.httpVersion == "2")
        #expect(overHTTP1.exitCode == 0 && overHTTP1.httpVersion == "1.1", "HTTP/1.1 still answered with --http2 on")
        #expect(overH2.status == 200 && overHTTP1.status == 200)
        #expect(!overH2.body.isEmpty && overH2.body == overHTTP1.body)
        for name in ["etag", "x-total-count", "x-total-pages", "content-type"] {
            #expect(overH2.headers[name] == overHTTP1.headers[name], "\(name)")
        }
        let gzipped = try await test.curl(feed, token: token, extraArguments: ["--http2", "--compressed"])
        #expect(gzipped.httpVersion == "2" && gzipped.headers["content-encoding"] == "gzip")
        #expect(gzipped.body == overHTTP1.body)

        let etag = try #require(overH2.headers["etag"])
        for version in ["--http2", "--http1.1"] {
            let cached = try await test.curl(
                feed, headers: ["If-None-Match: \(etag)"], token: token, extraArguments: [version])
            #expect(cached.status == 304 && cached.body.isEmpty, "\(version)")
        }
        await test.control.inject(.purgeLocation)
        let changed = try await test.curl(
            feed, headers: ["If-None-Match: \(etag)"], token: token, extraArguments: ["--http2"])
        #expect(changed.status == 200 && changed.httpVersion == "2" && changed.headers["etag"] != etag)
        #expect(try await test.curl(feed, extraArguments: ["--http2"]).status == 401)
        await test.stop()
    }

    @Test func withoutTheOptionALPNOffersOnlyHTTP1() async throws {
        let test = try await start(http2: false)
        let answer = try await test.curl("/api/v1/event/type", authenticated: true, extraArguments: ["--http2"])
        #expect(answer.status == 200 && answer.httpVersion == "1.1")
        await test.stop()
    }

    @Test func cdnHeaderBlockOnEveryAnswerWithIDsThatChange() async throws {
        let test = try await start(cdnHeaders: true)
        let token = try await test.authToken()
        let feed = "/api/v1/sim/\(test.emulator.simID)/event"
        let first = try await test.curl(feed, token: token, extraArguments: ["--http2"])
        let etag = try #require(first.headers["etag"])
        let second = try await test.curl(
            feed, headers: ["If-None-Match: \(etag)"], token: token, extraArguments: ["--http2"])
        let refused = try await test.curl(feed, extraArguments: ["--http1.1"])
        #expect(first.status == 200 && second.status == 304 && refused.status == 401)
        for answer in [first, second, refused] {
            for name in Self.cdnNames { #expect(answer.headers[name] != nil, "\(name) on \(answer.status)") }
        }
        for name in ["x-amz-cf-id", "x-amzn-requestid", "x-request-id", "x-amz-apigw-id", "x-amzn-trace-id"] {
            let values = Set([first, second, refused].compactMap { $0.headers[name] })
            #expect(values.count == 3, "\(name) differs per response")
        }
        #expect(first.headers["via"] == second.headers["via"], "one edge server")
        #expect(try #require(first.headers["via"]).hasSuffix(".cloudfront.net (CloudFront)"))
        #expect(first.headers["x-amz-cf-id"]?.count == 56)
        // The block as HTTP/1.1 sends it (name, ": ", value, CRLF): about 1.4 KB.
        let block = Self.cdnBlockSize(second.headers)
        #expect((1_300...1_600).contains(block), "\(block) bytes")
        let control = try await Curl.request(test.baseURL + "/_emulator/info", caFile: test.caFile)
        #expect(control.status == 200 && control.headers["x-amz-cf-id"] == nil, "the test interface has no CDN")
        await test.stop()
    }

    @Test func withoutTheOptionNoCDNHeaders() async throws {
        let test = try await start()
        let answer = try await test.curl("/api/v1/event/type", authenticated: true, extraArguments: ["--http2"])
        #expect(answer.status == 200)
        for name in Self.cdnNames { #expect(answer.headers[name] == nil, "\(name)") }
        await test.stop()
    }

    @Test func executableServesHTTP2WithTheCDNBlockAndRefusesHTTP2WithoutTLS() async throws {
        let executable = BuiltProducts.path(of: "emnify-emulator")
        try #require(BuiltProducts.exists("emnify-emulator"), "build it first: \(executable)")
        let directory = try TemporaryDirectory()
        let caFile = directory.file("ca.pem")
        let process = try RunningProcess(
            executable, ["serve", "--port", "0", "--ca-file", caFile, "--history", "5", "--http2", "--cdn-headers"])
        let line = try await process.waitForLine(prefix: "EMULATOR_READY")
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("url=") }?.dropFirst(4))
        let answer = try await Curl.request(
            String(url) + "/api/v1/event/type", caFile: caFile, extraArguments: ["--http2"])
        #expect(answer.status == 401 && answer.httpVersion == "2" && answer.headers["x-amz-cf-id"] != nil)
        process.signal(SIGTERM)
        let stopped = await process.wait(timeout: .seconds(10))
        #expect(!stopped.timedOut && stopped.exitCode == 0)

        let refused = try await ChildProcess.run(
            executable, ["serve", "--tls", "none", "--http2"], timeout: .seconds(30))
        #expect(refused.exitCode != 0)
        #expect(refused.standardError.contains("--http2 needs --tls"))
    }

    static func cdnBlockSize(_ headers: [String: String]) -> Int {
        let constant = [
            "access-control-allow-origin", "access-control-expose-headers", "cache-control",
            "cross-origin-opener-policy",
            "cross-origin-resource-policy", "origin-agent-cluster", "referrer-policy", "x-content-type-options",
            "x-dns-prefetch-control", "x-download-options", "x-frame-options", "x-permitted-cross-domain-policies",
            "x-xss-protection", "permissions-policy", "alt-svc",
        ]
        return (cdnNames + constant).reduce(0) { size, name in
            size + (headers[name].map { name.utf8.count + 2 + $0.utf8.count + 2 } ?? 0)
        }
    }
}
