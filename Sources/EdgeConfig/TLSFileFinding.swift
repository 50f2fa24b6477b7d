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
        var found: [TLSFileFinding] = []
        if let path = relay.tlsCertificate {
            switch TextFile.load(path) {
            case .success(let file):
                if !file.text.contains("-----BEGIN CERTIFICATE-----") {
                    found.append(
                        TLSFileFinding(key: "relay.tls_certificate", path: path, kind: .notPEM(expected: "CERTIFICATE"))
                    )
                }
            case .failure(let failure):
                found.append(
                    TLSFileFinding(key: "relay.tls_certificate", path: path, kind: .unreadable(reason: failure.reason)))
            }
        }
        if let path = relay.tlsKey {
            switch TextFile.load(path) {
            case .success(let file):
                // PKCS #8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), PKCS #1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY").
                if !(file.text.contains("-----BEGIN ") && file.text.contains("PRIVATE KEY-----")) {
                    found.append(
                        TLSFileFinding(key: "relay.tls_key", path: path, kind: .notPEM(expected: "PRIVATE KEY")))
                } else if file.mode & 0o077 != 0 {
                    found.append(
                        TLSFileFinding(
                            key: "relay.tls_key", path: path,
                            kind: .permissions(PermissionFinding(path: path, mode: file.mode))))
                }
            case .failure(let failure):
                found.append(
                    TLSFileFinding(key: "relay.tls_key", path: path, kind: .unreadable(reason: failure.reason)))
            }
        }
        return found
    }
}
