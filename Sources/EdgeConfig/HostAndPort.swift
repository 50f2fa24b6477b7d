/// A host and a port as the relay's file writes them: `"nats-1.example.net:1883"`,
/// `"10.0.0.5:1883"`, `"[::1]:8088"` (IPv6 in brackets). `host` holds the name or address
/// without brackets, as `mqtt.host` does.
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// nil when `text` is not `host:port` (see `Validators.hostAndPort` for what is wrong).
    public init?(_ text: String) {
        guard case .success(let value) = Validators.hostAndPort(text, example: 1883) else { return nil }
        self = value
    }

    /// `host:port`, IPv6 addresses in brackets: the form the file takes.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension Validators {
    /// `host:port` with the port required; `example` is the port suggested in messages.
    static func hostAndPort(_ text: String, example: Int) -> Result<HostAndPort, Message> {
        if text.isEmpty { return .failure("the value is empty; give host:port, e.g. \"127.0.0.1:\(example)\"") }
        if text.contains("://") {
            return .failure("\"\(text)\" is a URL; give only host:port, e.g. \"nats-1.example.net:\(example)\"")
        }
        if text.contains(where: { $0.isWhitespace }) { return .failure("\"\(text)\" contains blanks") }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure("\"\(text)\" has no closing ] after the IPv6 address")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else {
                return .failure("\"\(text)\" has no port; write \"\(text):\(example)\"")
            }
            portPart = after.dropFirst()
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons > 1 {
                return .failure("\"\(text)\": an IPv6 address goes in brackets, e.g. \"[::1]:\(example)\"")
            }
            guard let colon = text.firstIndex(of: ":") else {
                return .failure("\"\(text)\" has no port; write \"\(text):\(example)\"")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = Int(portPart), (1...65535).contains(port), portPart.allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            return .failure("\"\(text)\": \"\(portPart)\" is not a port; the port is a number from 1 to 65535")
        }
        let isIPv6 = hostPart.contains(":")
        guard !hostPart.isEmpty, host(of: isIPv6 ? "[\(hostPart)]" : hostPart) != nil else {
            return .failure("\"\(text)\": \"\(hostPart)\" is not a host name or IP address")
        }
        return .success(HostAndPort(host: String(hostPart), port: port))
    }
}
