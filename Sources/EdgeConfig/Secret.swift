/// A secret read from the environment, a systemd credential or a file: the emnify application
/// token, the relay's webhook token, the MQTT password. Its descriptions never show the value.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself, whitespace and newline trimmed. Never log or print it.
    public let value: String
    public let source: SecretSource
    /// Set when the file is readable or writable by group or others.
    public let permissionFinding: PermissionFinding?

    public init(value: String, source: SecretSource, permissionFinding: PermissionFinding? = nil) {
        self.value = value
        self.source = source
        self.permissionFinding = permissionFinding
    }

    public var description: String { "<secret from \(source)>" }
    public var debugDescription: String { description }
}

/// Where a secret came from, for diagnostics.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case environment(variable: String)
    case credential(path: String)
    case file(path: String)

    public var description: String {
        switch self {
        case .environment(let variable): return "environment variable \(variable)"
        case .credential(let path): return "systemd credential \(path)"
        case .file(let path): return "file \(path)"
        }
    }
}

/// A secret file that others than its owner may read or change. A warning, not an error:
/// the agent still runs, and `config check` and the log say how to fix it.
public struct PermissionFinding: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    /// The permission bits found, e.g. `0o644`.
    public let mode: UInt32

    public init(path: String, mode: UInt32) {
        self.path = path
        self.mode = mode
    }

    /// The finding for a secret file of `mode`; nil when only its owner may read or change it.
    public static func check(path: String, mode: UInt32) -> PermissionFinding? {
        mode & 0o077 != 0 ? PermissionFinding(path: path, mode: mode) : nil
    }

    /// `"0644"`.
    public var modeText: String {
        let octal = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }

    public var description: String {
        var who: [String] = []
        if mode & 0o070 != 0 { who.append("group") }
        if mode & 0o007 != 0 { who.append("others") }
        return "warning: \(path) has mode \(modeText), so \(who.joined(separator: " and ")) can read or change it; "
            + "run: chmod 600 \(path) && chown emnify-edge:emnify-edge \(path)"
    }
}

/// A secret that could not be had. The description says how to provide it.
public enum SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No token anywhere; `tokenFile` is the configured `api.token_file`.
    case applicationTokenMissing(tokenFile: String)
    /// The source exists but holds nothing.
    case empty(SecretSource)
    /// The value has blanks or line breaks inside: probably not just the secret.
    case malformed(SecretSource)
    /// The file exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// `mqtt.password_file` names no file.
    case passwordFileMissing(path: String)
    /// No webhook token anywhere; `tokenFile` is the configured `relay.webhook_token_file`.
    case webhookTokenMissing(tokenFile: String)
    /// The webhook token is shorter than `minimum` characters: too easy to guess.
    case tooShort(SecretSource, minimum: Int)
    /// The webhook token has characters an `Authorization: Bearer` header cannot carry as they are.
    case notABearerToken(SecretSource)

    public var description: String {
        switch self {
        case .applicationTokenMissing(let tokenFile):
            return "no emnify application token: set \(ApplicationTokenSource.environmentVariable), "
                + "or load the systemd credential \(ApplicationTokenSource.credentialName) "
                + "(LoadCredential=\(ApplicationTokenSource.credentialName):/path/to/token), "
                + "or write it to \(tokenFile) (api.token_file; owner emnify-edge, mode 0600). "
                + "Create the token in the emnify Portal under Integrations → Application tokens"
        case .empty(let source):
            return "the \(source) is empty; it must hold the secret on one line"
        case .malformed(let source):
            return "the \(source) holds more than one word; it must hold only the secret, on one line"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .passwordFileMissing(let path):
            return "mqtt.password_file \(path) does not exist; create it (mode 0600) or remove the key"
        case .webhookTokenMissing(let tokenFile):
            return "no webhook token: set \(WebhookTokenSource.environmentVariable), "
                + "or load the systemd credential \(WebhookTokenSource.credentialName) "
                + "(LoadCredential=\(WebhookTokenSource.credentialName):/path/to/token), "
                + "or write it to \(tokenFile) (relay.webhook_token_file; mode 0600), e.g. "
                + "openssl rand -hex 32 > \(tokenFile). The data stream sends it as the header "
                + "\"Authorization: Bearer <token>\""
        case .tooShort(let source, let minimum):
            return "the \(source) is too short for a webhook token, which is all that authenticates the Data "
                + "Streamer: use at least \(minimum) characters (openssl rand -hex 32 makes 64)"
        case .notABearerToken(let source):
            return "the \(source) has characters a bearer token cannot have; use letters, digits and - . _ ~ + / "
                + "(= only at the end), e.g. from openssl rand -hex 32"
        }
    }
}
