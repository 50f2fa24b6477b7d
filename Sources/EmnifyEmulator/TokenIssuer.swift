import Crypto
import FoundationEssentials

/// Issues and checks the JWTs that `POST /api/v1/authenticate` hands out: HS256 over a
/// per-instance secret, with `iat`, `exp`, `sub`, `jti` like emnify's tokens. Revocation
/// invalidates every token issued so far (their `jti` is at or below the revocation mark).
struct TokenIssuer: Sendable {
    enum Verdict: Equatable, Sendable {
        case valid
        /// 401 with this JSON message, or with an empty body when nil.
        case rejected(message: String?)
    }

    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private var lastJTI: Int64 = 0
    private var revokedThrough: Int64 = 0
    /// Every token handed out, oldest first (tests scan logs and bundles for them).
    private(set) var issued: [String] = []
    let organisationID: Int64

    init(seed: UInt64, organisationID: Int64) {
        var random = SeededRandom(seed: seed ^ 0x7A7A)
        keyBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        self.organisationID = organisationID
    }

    mutating func issue(nowSeconds: Double, lifetime: Duration) -> String {
        lastJTI += 1
        let iat = Int64(nowSeconds)
        let exp = iat + max(1, lifetime.components.seconds)
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let payload =
            #"{"aud":"/api/v1/application_token","esc.app":\#(lastJTI),"esc.appName":"emnify-edge","esc.org":\#(organisationID),"#
            + #""esc.orgName":"Emulated Org","iss":"https://cdn.emnify.net/api/v1/authenticate","#
            + #""jti":"\#(lastJTI)","sub":"application-token","iat":\#(iat),"exp":\#(exp)}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: key)
        let token = signingInput + "." + Base64URL.encode(Array(signature))
        issued.append(token)
        return token
    }

    mutating func revokeAll() {
        revokedThrough = lastJTI
    }

    func verify(authorization: String?, nowSeconds: Double) -> Verdict {
        guard let authorization, !authorization.isEmpty else { return .rejected(message: nil) }
        guard authorization.hasPrefix("Bearer ") else {
            return .rejected(message: "Authorization header format must be Bearer {token}")
        }
        let token = authorization.dropFirst("Bearer ".count)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .rejected(message: "token contains an invalid number of segments") }
        guard let signature = Base64URL.decode(parts[2]),
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: Array("\(parts[0]).\(parts[1])".utf8), using: key)
        else { return .rejected(message: "signature is invalid") }
        guard let payloadBytes = Base64URL.decode(parts[1]),
            let claims = try? JSONDecoder().decode(Claims.self, from: Data(payloadBytes)),
            let jti = Int64(claims.jti)
        else { return .rejected(message: "token is malformed") }
        if nowSeconds >= Double(claims.exp) { return .rejected(message: "Token is expired") }
        if jti <= revokedThrough { return .rejected(message: nil) }
        return .valid
    }

    private struct Claims: Decodable {
        let exp: Int64
        let jti: String
    }
}

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        var text = ""
        for character in Data(bytes).base64EncodedString() {
            switch character {
            case "+": text.append("-")
            case "/": text.append("_")
            case "=": break
            default: text.append(character)
            }
        }
        return text
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}
