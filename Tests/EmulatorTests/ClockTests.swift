import EmnifyEmulator
import Foundation
import TestSupport
import Testing

/// The agent takes the API's time from the `Date` header and the JWT's `iat`/`exp`: the emulator
/// must send both from its own clock, like emnify.
@Suite struct EmulatorClockTests {
    static func parseHTTPDate(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }

    static func claims(_ jwt: String) throws -> [String: Any] {
        var payload = String(jwt.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let data = try #require(Data(base64Encoded: payload))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func answersCarryADateHeaderAndTokensTheEmulatorsTime() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", tokenLifetime: .seconds(3600)))
        let before = Int64(Date().timeIntervalSince1970)
        let login = try await test.curl("/api/v1/authenticate", method: "POST", body: #"{"application_token":"t"}"#)
        let after = Int64(Date().timeIntervalSince1970)
        let date = try #require(login.headers["date"] ?? login.headers["Date"], "\(login.headers)")
        let seconds = try #require(Self.parseHTTPDate(date), "an IMF-fixdate: \(date)")
        // Hummingbird renders the Date header from a cache that a timer refreshes once a second; on
        // a loaded machine that timer runs late, so the header may trail by a few seconds.
        #expect((before - 5...after + 1).contains(seconds))
        let jwt = try #require((try login.jsonObject() as? [String: Any])?["auth_token"] as? String)
        let claims = try Self.claims(jwt)
        let issuedAt = try #require((claims["iat"] as? NSNumber)?.int64Value)
        #expect((before - 1...after + 1).contains(issuedAt))
        #expect((claims["exp"] as? NSNumber)?.int64Value == issuedAt + 3600)
        let feed = try await test.curl("/api/v1/event/type", token: jwt)
        #expect(
            (feed.headers["date"] ?? feed.headers["Date"]).flatMap(Self.parseHTTPDate) != nil,
            "every answer, not only the login")
        await test.stop()
    }
}
