import EdgeCommon

/// Checks on string values. Each returns nil when the value is fine, else what to fix.
enum Validators {
    static func absolutePath(_ path: String) -> Message? {
        if path.isEmpty { return "the path is empty; give an absolute path such as \"/etc/emnify-edge/…\"" }
        if !path.hasPrefix("/") { return "\"\(path)\" is not an absolute path; it must start with /" }
        if path.unicodeScalars.contains("\0") { return "the path contains a NUL character" }
        return nil
    }

    /// `https://host[:port][/path]`; `http://` only for a local emulator (TLS must be on).
    static func apiURL(_ url: String) -> Message? {
        let lower = url.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            return "\"\(url)\" is not an https:// URL (for example \"https://cdn.emnify.net\")"
        }
        let rest = url.dropFirst(scheme.count + 3)
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        if authority.contains("@") { return "the URL must not contain credentials; the token goes in api.token_file" }
        guard let host = host(of: authority) else {
            return "\"\(url)\" has no valid host"
        }
        if scheme == "http" && !localHosts.contains(host.lowercased()) {
            return
                "\"\(url)\" uses plain http; only https is allowed (http only for a local emulator on 127.0.0.1, localhost or ::1)"
        }
        if url.contains(where: { $0 == " " || $0 == "\t" }) { return "the URL contains blanks" }
        return nil
    }

    /// Where plain http and polls faster than once a second are allowed: the emulator, a benchmark's stand-in.
    static let localHosts: Set = ["127.0.0.1", "localhost", "::1"]

    /// Whether `url` (valid by `apiURL`) names an API on this machine.
    static func isLocalAPI(_ url: String) -> Bool {
        let lower = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lower.hasPrefix($0) }) else { return false }
        let authority = url.dropFirst(scheme.count).prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        return host(of: authority).map { localHosts.contains($0.lowercased()) } ?? false
    }

    /// The host of `host`, `host:port`, `[::1]` or `[::1]:port`; nil when malformed.
    static func host(of authority: Substring) -> String? {
        var hostPart: Substring
        var portPart: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
        }
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else { return nil }
        }
        guard !hostPart.isEmpty,
            hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") })
        else { return nil }
        return String(hostPart)
    }

    static func brokerHost(_ host: String) -> Message? {
        if host.contains("://") {
            return "\"\(host)\" is a URL; give only the host name or address, and the port in mqtt.port"
        }
        guard self.host(of: Substring(host.contains(":") ? "[\(host)]" : host)) != nil else {
            return "\"\(host)\" is not a host name or IP address"
        }
        return nil
    }

    static func nonEmpty(_ text: String) -> Message? {
        text.isEmpty ? "the value is empty; leave the key out to use the default" : nil
    }

    static func iccid(_ text: String) -> Message? {
        do {
            _ = try ICCID(parsing: text)
            return nil
        } catch {
            return Message(error.description)
        }
    }

    static func digits(_ text: String, name: String, counts: ClosedRange<Int>) -> Message? {
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return "\"\(text)\" is not an \(name): only digits are allowed"
        }
        guard counts.contains(text.count) else {
            let expected = counts.count == 1 ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
            return "\"\(text)\" has \(text.count) digits; an \(name) has \(expected)"
        }
        return nil
    }

    /// MQTT topic prefix: no wildcards, no NUL, no empty levels at the ends.
    static func topicPrefix(_ prefix: String) -> Message? {
        if prefix.isEmpty { return "the topic prefix is empty" }
        if prefix.contains(where: { $0 == "+" || $0 == "#" }) {
            return "\"\(prefix)\" contains an MQTT wildcard (+ or #)"
        }
        if prefix.unicodeScalars.contains("\0") { return "the topic prefix contains a NUL character" }
        if prefix.hasPrefix("/") || prefix.hasSuffix("/") { return "\"\(prefix)\" must not start or end with /" }
        if prefix.hasPrefix("$") { return "\"\(prefix)\" starts with $, which brokers reserve for themselves" }
        return nil
    }

    static func clientID(_ id: String) -> Message? {
        if id.isEmpty { return "the client id is empty; leave the key out for emnify-edge-<hostname>" }
        if id.utf8.count > 65535 { return "the client id is too long" }
        if id.unicodeScalars.contains("\0") { return "the client id contains a NUL character" }
        return nil
    }

    static func boardName(_ name: String) -> Message? {
        guard !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }),
            !name.hasPrefix(".")
        else {
            return
                "\"\(name)\" is not a board profile name (lower-case letters, digits, '-', '_', e.g. \"quectel-ec25\")"
        }
        return nil
    }

    static func atCommand(_ command: String) -> Message? {
        guard command.uppercased().hasPrefix("AT"), !command.contains(where: \.isNewline) else {
            return "\"\(command)\" is not an AT command (e.g. \"AT+QCCID\")"
        }
        return nil
    }
}
