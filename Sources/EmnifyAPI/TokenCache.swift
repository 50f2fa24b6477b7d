import EdgeCommon

/// Keeps the JWT in a file (mode 0600) so that a restart reuses it instead of logging in
/// again: emnify allows 100 logins per 5 minutes per IP, and a crash loop must not burn them.
///
/// The file records a `CredentialFingerprint`, so a changed token or API never reuses a JWT
/// issued for the old one.
public struct TokenCache: Sendable {
    public let path: String
    let fingerprint: String

    public init(path: String, applicationToken: String, baseURL: String) {
        self.path = path
        self.fingerprint = CredentialFingerprint.of(applicationToken: applicationToken, baseURL: baseURL)
    }

    public func load() -> AuthToken? {
        guard let text = try? FileReader.readText(path, limit: 64 * 1024) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == 2, lines[0] == "v1 \(fingerprint)" else { return nil }
        let token = AuthToken(jwt: String(lines[1]))
        return token.expiresAt == nil ? nil : token
    }

    public func store(_ token: AuthToken) throws(FileError) {
        try AtomicFile.write("v1 \(fingerprint)\n\(token.jwt)\n", to: path, mode: 0o600)
    }

}

/// What the files of `state_dir` record of the credentials they belong to (the JWT cache, the
/// login pause): FNV-1a of the application token and the API URL. It only has to tell tokens
/// apart, and 64 bits of a hash reveal nothing useful about a long token.
enum CredentialFingerprint {
    static func of(applicationToken: String, baseURL: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (applicationToken + "\n" + baseURL).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
