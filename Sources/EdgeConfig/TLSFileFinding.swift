/// What is wrong with the relay's `tls_certificate` or `tls_key` before it starts: a file that
/// cannot be read or holds no PEM of its kind is an error (the webhook could not serve HTTPS); a
/// key that group or others may read is a warning, as for the other secret files.
public struct TLSFileFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case unreadable(reason: String)
        /// The file holds no PEM block of the expected kind (a certificate where the key should be…).
        case notPEM(expected: String)
        case permissions(PermissionFinding)
    }

    /// `"relay.tls_certificate"` or `"relay.tls_key"`.
    public let key: String
    public let path: String
    public let kind: Kind

    public var isError: Bool {
        if case .permissions = kind { return false }
        return true
    }

    public var description: String {
        switch kind {
        case .unreadable(let reason):
            return "\(key) \(path) cannot be read: \(reason); the webhook cannot serve HTTPS without it"
        case .notPEM(let expected):
            return "\(key) \(path) holds no PEM \(expected) (a \"-----BEGIN \(expected)-----\" block); "
                + "check that certificate and key are not swapped"
        case .permissions(let finding):
            return finding.description
        }
    }

    /// The findings for `relay`'s files; none without TLS.
    static func check(_ relay: RelayConfig) -> [TLSFileFinding] {
        let certificate = relay.tlsCertificate.flatMap { path in
            check("relay.tls_certificate", path, expected: "CERTIFICATE", isSecret: false) {
                $0.contains("-----BEGIN CERTIFICATE-----")
            }
        }
        let key = relay.tlsKey.flatMap { path in
            check("relay.tls_key", path, expected: "PRIVATE KEY", isSecret: true) {
                // PKCS #8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), PKCS #1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY").
                $0.contains("-----BEGIN ") && $0.contains("PRIVATE KEY-----")
            }
        }
        return [certificate, key].compactMap { $0 }
    }

    /// The finding for one file: unreadable, without its PEM block, or (`isSecret`) readable by others.
    private static func check(
        _ key: String, _ path: String, expected: String, isSecret: Bool, holdsPEM: (String) -> Bool
    ) -> TLSFileFinding? {
        switch TextFile.load(path) {
        case .failure(let failure):
            return TLSFileFinding(key: key, path: path, kind: .unreadable(reason: failure.reason))
        case .success(let file):
            if !holdsPEM(file.text) { return TLSFileFinding(key: key, path: path, kind: .notPEM(expected: expected)) }
            guard isSecret, let finding = PermissionFinding.check(path: path, mode: file.mode) else { return nil }
            return TLSFileFinding(key: key, path: path, kind: .permissions(finding))
        }
    }
}
