/// The gateway's mosquitto bridge to the fleet cluster (`emnify-edge bridge-config`): the template
/// `firmware-config/mosquitto/emnify-bridge.conf.in` with its `@…@` fields filled in. Pure text: the
/// command reads the modem, the configuration and the password file, and writes the result.
public struct BridgeSnippet: Sendable {
    /// How the bridge reaches the cluster.
    public enum Transport: Sendable, Equatable {
        /// TLS verified against the certificates in a directory (the system trust store).
        case tls(caPath: String)
        /// TLS verified against one PEM bundle (the cluster's own CA).
        case tlsWithCAFile(String)
        /// Plain TCP: only for a cluster on the loopback interface (`Connection` refuses others).
        case plain
    }

    public static let systemTrustStore = "/etc/ssl/certs"
    /// Every field of the template; each must appear in it, and nothing else between @ signs.
    public static let fields = ["@ADDRESSES@", "@ICCID@", "@PREFIX@", "@CREDENTIALS@", "@TLS@"]

    /// How the bridge reaches and logs in to the cluster: validated before the modem is read.
    public struct Connection: Sendable {
        public let addresses: [HostAndPort]
        public let username: String?
        public let password: Secret?
        public let transport: Transport

        /// At least one address, each once; plain TCP only to loopback hosts; a password only with a user name;
        /// nothing that would break a line of mosquitto.conf.
        public init(
            addresses: [HostAndPort], username: String?, password: Secret?, transport: Transport
        ) throws(BridgeSnippetError) {
            guard !addresses.isEmpty else { throw .noAddress }
            var seen: Set<HostAndPort> = []
            for address in addresses where !seen.insert(address).inserted { throw .duplicateAddress(address) }
            if transport == .plain, let remote = addresses.first(where: { !BridgeSnippet.isLoopback($0.host) }) {
                throw .plainToRemoteHost(remote)
            }
            if let username {
                guard !username.isEmpty, username.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
                else { throw .badUsername }
            }
            if password != nil && username == nil { throw .passwordWithoutUsername }
            for path in [transport.caPath, transport.caFile].compactMap({ $0 }) {
                guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace }) else {
                    throw .badCAPath(path)
                }
            }
            self.addresses = addresses
            self.username = username
            self.password = password
            self.transport = transport
        }
    }

    public let connection: Connection
    /// The ICCID's topic form (`ICCID.topicForm`) and the sanitized prefix (`TopicLayout`): the agent's topics.
    public let iccid: String
    public let prefix: String

    public init(connection: Connection, iccid: String, prefix: String) throws(BridgeSnippetError) {
        // mosquitto.conf splits `topic` lines on blanks: a blank in the prefix would cut the topic.
        guard !prefix.contains(where: { $0.isWhitespace }) else { throw .blankInPrefix(prefix) }
        guard !iccid.isEmpty, iccid.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { throw .badICCID(iccid) }
        self.connection = connection
        self.iccid = iccid
        self.prefix = prefix
    }

    /// `localhost`, 127.0.0.0/8 and `::1`: where a cluster without TLS may run (tests, a lab on one machine).
    public static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" { return true }
        let octets = lower.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The template with every field filled in; an error names a field the template lacks or does not know.
    public func render(template: String) throws(BridgeSnippetError) -> String {
        for field in Self.fields where !template.contains(field) { throw .templateLacks(field) }
        var text = template
        for (field, value) in values { text = text.replacing(field, with: value) }
        if let unknown = Self.firstField(in: text) { throw .unknownField(unknown) }
        return text
    }

    private var values: [(String, String)] {
        [
            // mosquitto splits each address at its last colon: an IPv6 host goes without brackets ("::1:1883").
            ("@ADDRESSES@", connection.addresses.map { "\($0.host):\($0.port)" }.joined(separator: " ")),
            ("@ICCID@", iccid),
            ("@PREFIX@", prefix),
            ("@CREDENTIALS@", credentialLines),
            ("@TLS@", tlsLines),
        ]
    }

    private var credentialLines: String {
        guard let username = connection.username else {
            return "# No remote_username: the cluster takes this client without one."
        }
        var lines = ["remote_username \(username)"]
        if let password = connection.password { lines.append("remote_password \(password.value)") }
        return lines.joined(separator: "\n")
    }

    private var tlsLines: String {
        switch connection.transport {
        case .tls(let caPath): return "bridge_capath \(caPath)"
        case .tlsWithCAFile(let caFile): return "bridge_cafile \(caFile)"
        case .plain: return "# No TLS (--no-tls): only for a cluster on this machine's loopback interface."
        }
    }

    /// `@NAME@` of upper-case letters and underscores, as the template's fields are written.
    private static func firstField(in text: String) -> String? {
        var rest = Substring(text)
        while let start = rest.firstIndex(of: "@") {
            let after = rest[rest.index(after: start)...]
            guard let end = after.firstIndex(of: "@") else { return nil }
            let name = after[..<end]
            if !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "_") }) {
                return "@\(name)@"
            }
            rest = after
        }
        return nil
    }
}

extension BridgeSnippet.Transport {
    fileprivate var caPath: String? {
        if case .tls(let path) = self { return path }
        return nil
    }

    fileprivate var caFile: String? {
        if case .tlsWithCAFile(let path) = self { return path }
        return nil
    }
}

extension HostAndPort {
    /// `host:port` as `--cluster` takes it, or what is wrong with it (the relay's file uses the same rules).
    public static func parse(_ text: String, examplePort: Int = 8883) -> Result<HostAndPort, BridgeSnippetError> {
        Validators.hostAndPort(text, example: examplePort).mapError { .badAddress($0.text) }
    }
}

/// What is wrong with a bridge's settings or template; each says what to do instead.
public enum BridgeSnippetError: Error, Sendable, Equatable, CustomStringConvertible {
    case noAddress
    case badAddress(String)
    case duplicateAddress(HostAndPort)
    case plainToRemoteHost(HostAndPort)
    case badUsername
    case passwordWithoutUsername
    case blankInPrefix(String)
    case badICCID(String)
    case badCAPath(String)
    case templateLacks(String)
    case unknownField(String)

    public var description: String {
        switch self {
        case .noAddress:
            return "no cluster node given; name each with --cluster host:port (several for failover)"
        case .badAddress(let reason):
            return "--cluster \(reason)"
        case .duplicateAddress(let address):
            return "--cluster \(address) is given twice; name each cluster node once"
        case .plainToRemoteHost(let address):
            return "--no-tls is only for a cluster on this machine (127.0.0.1, ::1, localhost), not \(address): "
                + "the bridge would send the cluster password and every event in clear text over the network. "
                + "Leave out --no-tls (TLS with the system trust store) or give the cluster's CA with --ca-file"
        case .badUsername:
            return "--username must be one word without blanks or control characters"
        case .passwordWithoutUsername:
            return "--password-file needs --username: MQTT sends a password only with a user name"
        case .blankInPrefix(let prefix):
            return "[mqtt] topic_prefix \"\(prefix)\" contains a blank, which a mosquitto topic line cannot hold "
                + "(and NATS refuses in topics); choose a prefix without blanks"
        case .badICCID(let iccid):
            return "\"\(iccid)\" is not an ICCID's topic form (hex digits)"
        case .badCAPath(let path):
            return "\"\(path)\" is not an absolute path without blanks; mosquitto needs one for its CA setting"
        case .templateLacks(let field):
            return "the template has no \(field) field; every one of \(BridgeSnippet.fields.joined(separator: " ")) "
                + "must appear in it (start from firmware-config/mosquitto/emnify-bridge.conf.in)"
        case .unknownField(let field):
            return "the template has the field \(field), which bridge-config does not fill in; the fields are "
                + BridgeSnippet.fields.joined(separator: " ")
        }
    }
}
