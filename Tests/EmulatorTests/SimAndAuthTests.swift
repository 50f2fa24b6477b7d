import EmnifyEmulator
import Foundation
import TestSupport
import Testing

@Suite("SIM lookup and authentication")
struct SimAndAuthTests {
    @Test func simLookupByBothICCIDForms() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        let iccid20 = test.emulator.iccid
        #expect(iccid20.count == 20)
        let iccid19 = String(iccid20.dropLast())
        let byLuhn = try await test.curl("/api/v1/sim?q=iccid_with_luhn:\(iccid20)", token: token).jsonArray()
        let by19 = try await test.curl("/api/v1/sim?q=iccid:\(iccid19)", token: token).jsonArray()
        #expect(byLuhn.count == 1 && by19.count == 1)
        let sim = try #require(by19.first)
        #expect((sim["id"] as? NSNumber)?.int64Value == test.emulator.simID)
        #expect(sim["iccid"] as? String == iccid19)
        #expect(sim["iccid_with_luhn"] as? String == iccid20)
        #expect((sim["status"] as? [String: Any])?["description"] as? String == "Activated")
        let endpoint = try #require(sim["endpoint"] as? [String: Any])
        #expect((endpoint["id"] as? NSNumber)?.int64Value == test.emulator.endpointID)
        // 20 digits in `iccid` find nothing, like the real API.
        let wrongForm = try await test.curl("/api/v1/sim?q=iccid:\(iccid20)", token: token)
        #expect(wrongForm.status == 200 && wrongForm.bodyText == "[]")
        await test.stop()
    }

    @Test func simWithoutEndpoint() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", hasEndpoint: false))
        let token = try await test.authToken()
        #expect(test.emulator.endpointID == nil)
        let sims = try await test.curl("/api/v1/sim?q=iccid_with_luhn:\(test.emulator.iccid)", token: token).jsonArray()
        #expect(sims.count == 1)
        #expect(sims.first?["endpoint"] == nil)
        await test.stop()
    }

    @Test func jwtCarriesExpAndWrongTokenIs401() async throws {
        let test = try await TestEmulator.start(
            .init(tls: .none, applicationToken: "right", tokenLifetime: .seconds(7200)))
        let wrong = try await Curl.request(
            test.baseURL + "/api/v1/authenticate", method: "POST", body: #"{"application_token":"wrong"}"#)
        #expect(wrong.status == 401)
        #expect((try wrong.jsonObject() as? [String: Any])?["message"] is String)

        let token = try await test.authToken()
        #expect(token.split(separator: ".").count == 3)
        let claims = try Self.claims(of: token)
        let iat = try #require(claims["iat"] as? Int)
        let exp = try #require(claims["exp"] as? Int)
        #expect(exp - iat == 7200)
        #expect(abs(Double(iat) - Date().timeIntervalSince1970) < 5)
        #expect(claims["sub"] is String)
        let counters = await test.control.counters()
        #expect(counters.authentications == 1 && counters.failedAuthentications == 1)
        await test.stop()
    }

    @Test func missingGarbageExpiredAndRevokedTokensAre401() async throws {
        // 8 s: long enough for the steps before the expiry also on a loaded machine (under
        // ThreadSanitizer they took more than 3 s).
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", tokenLifetime: .seconds(8)))
        let path = "/api/v1/event/type"
        let missing = try await test.curl(path)
        #expect(missing.status == 401 && missing.body.isEmpty)
        let garbage = try await test.curl(path, token: "garbage")
        #expect(garbage.status == 401)
        #expect(garbage.bodyText.contains("token contains an invalid number of segments"))
        let forged = try await test.curl(path, token: "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2lnbmF0dXJl")
        #expect(forged.status == 401)

        let token = try await test.authToken()
        #expect(try await test.curl(path, token: token).status == 200)
        let exp = try Self.claims(of: token)["exp"] as? Int ?? 0
        let wait = Double(exp) - Date().timeIntervalSince1970 + 0.2
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        let expired = try await test.curl(path, token: token)
        #expect(expired.status == 401)
        #expect(expired.bodyText.contains("expired"))
        await test.stop()
    }

    @Test func revocation() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        #expect(try await test.curl("/api/v1/event/type", token: token).status == 200)
        await test.control.revokeTokens()
        let revoked = try await test.curl("/api/v1/event/type", token: token)
        #expect(revoked.status == 401)
        let fresh = try await test.authToken()
        #expect(try await test.curl("/api/v1/event/type", token: fresh).status == 200)
        await test.stop()
    }

    @Test func threeFailedLoginsLockTheAccount() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        for _ in 0..<3 {
            _ = try await test.curl("/api/v1/authenticate", method: "POST", body: #"{"application_token":"x"}"#)
        }
        let locked = try await test.curl("/api/v1/authenticate", method: "POST", body: #"{"application_token":"t"}"#)
        #expect(locked.status == 401)
        await test.control.reset()
        #expect(try await test.authToken().isEmpty == false)
        await test.stop()
    }

    static func claims(of token: String) throws -> [String: Any] {
        let parts = token.split(separator: ".")
        try #require(parts.count == 3)
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let payloadData = try #require(Data(base64Encoded: payload))
        return try #require(try JSONSerialization.jsonObject(with: payloadData) as? [String: Any])
    }
}
