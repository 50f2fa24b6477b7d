import FoundationEssentials

/// An emnify JWT (`auth_token`) with the claims the client needs. The token itself is a
/// secret: `description` never shows it.
public struct AuthToken: Sendable, Equatable, CustomStringConvertible {
    public let jwt: String
    /// `exp` claim, seconds since the epoch; nil when the token carries none.
    public let expiresAt: Int64?
    public let issuedAt: Int64?

    public init(jwt: String) {
        self.jwt = jwt
        let claims = AuthToken.claims(of: jwt)
        self.expiresAt = claims?.exp
        self.issuedAt = claims?.iat
    }

    public var description: String {
        "AuthToken(expires: \(expiresAt.map(String.init) ?? "unknown"))"
    }

    /// `exp - iat`: how long the token lives from its issue, by its own claims (no clock needed).
    public var lifetimeSeconds: Int64? {
        guard let expiresAt, let issuedAt, expiresAt > issuedAt else { return nil }
        return expiresAt - issuedAt
    }

    /// Renew this long before `exp`: a tenth of the lifetime, at most 5 minutes, at least 1 second.
    public var renewalMargin: Int64 {
        guard let expiresAt, let issuedAt, expiresAt > issuedAt else { return 300 }
        return max(1, min(300, (expiresAt - issuedAt) / 10))
    }

    /// Whether the token can still be used at `now` (seconds) without renewing first.
    /// A token without `exp` is used for an hour from when it was received, then renewed.
    public func isFresh(at now: Int64, receivedAt: Int64) -> Bool {
        guard let expiresAt else { return now < receivedAt + 3600 }
        return now < expiresAt - renewalMargin
    }

    private struct Claims: Decodable {
        var exp: Int64?
        var iat: Int64?
    }

    static func claims(of jwt: String) -> (exp: Int64?, iat: Int64?)? {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = base64URLDecode(parts[1]),
            let claims = try? JSONDecoder().decode(Claims.self, from: Data(payload))
        else { return nil }
        return (claims.exp, claims.iat)
    }

    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.count % 4 != 0 { standard.append("=") }
        guard let data = Data(base64Encoded: standard) else { return nil }
        return Array(data)
    }
}
