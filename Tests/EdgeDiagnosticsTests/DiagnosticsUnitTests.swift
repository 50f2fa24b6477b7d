import EmnifyAPI
import Foundation
import Testing

@testable import EdgeDiagnostics

@Suite struct DiagnosticsUnitTests {
    @Test func imfFixdateIsParsed() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == nil)
        #expect(HTTPDate.parse("Sun, 31 Feb 1994 08:49:37 GMT") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 UTC") == nil)
    }

    @Test func proxyCredentialsAreNeverShown() throws {
        let proxy = try #require(
            ProxyEnvironment(
                url: "https://cdn.emnify.net", environment: ["HTTPS_PROXY": "http://bob:s3cret@10.0.0.1:3128"]))
        #expect(proxy.redactedURL == "http://***@10.0.0.1:3128")
        #expect(proxy.password == "s3cret")
        #expect(proxy.inUse)
        let bypassed = try #require(
            ProxyEnvironment(
                url: "https://cdn.emnify.net/x",
                environment: ["https_proxy": "http://p:1", "no_proxy": "localhost,.emnify.net"]))
        #expect(bypassed.bypassedBy == "no_proxy")
        #expect(ProxyEnvironment(url: "https://cdn.emnify.net", environment: ["http_proxy": "http://p:1"]) == nil)
    }

    @Test func secretsAndJWTsAreRedacted() {
        let redactor = Redactor(secrets: ["tok-123456"])
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
        #expect(redactor.redact("a tok-123456 b \(jwt) c") == "a <redacted> b <redacted-jwt> c")
        #expect(
            redactor.redactTOML("token = \"abc\"\ntoken_file = \"/x\"\n")
                == "token = \"<redacted>\"\ntoken_file = \"/x\"\n")
    }

    @Test func exitCodesFollowTheWorstStatus() {
        func report(_ statuses: [CheckStatus]) -> DiagnosticReport {
            DiagnosticReport(
                tool: "t", generatedAt: "g", configFile: "c",
                checks: statuses.enumerated().map { CheckResult(id: "\($0)", title: "x", status: $1, finding: "f") })
        }
        #expect(report([.pass, .pass]).exitCode == 0)
        #expect(report([.pass, .warn]).exitCode == 2)
        #expect(report([.warn, .fail]).exitCode == 1)
        #expect(report([.fail]).text(colour: true).contains("\u{1B}[1;31mFAIL\u{1B}[0m"))
        #expect(!report([.fail]).text(colour: false).contains("\u{1B}"))
    }

    @Test func tarHeadersAreValidUstar() throws {
        var tar = TarArchive()
        tar.add("dir/a.txt", Array("hello\n".utf8), modified: 1_700_000_000)
        let bytes = tar.finished
        #expect(bytes.count == 512 + 512 + 1024)
        #expect(Array(bytes[257..<263]) == Array("ustar\0".utf8))
        var header = Array(bytes[0..<512])
        let stored = Int(String(decoding: header[148..<154], as: UTF8.self), radix: 8)
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        #expect(stored == header.reduce(0) { $0 + Int($1) })
    }
}
