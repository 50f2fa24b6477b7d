import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// The HTTP proxy libcurl will use for the API, read from the environment the way libcurl reads
/// it: `https_proxy`/`HTTPS_PROXY` (or `http_proxy` for plain HTTP), then `all_proxy`/`ALL_PROXY`;
/// `no_proxy`/`NO_PROXY` lists hosts (or `*`) that go direct. Credentials inside the proxy URL
/// are never shown.
struct ProxyEnvironment: Sendable, Equatable {
    /// The variable the proxy came from.
    var variable: String
    /// The proxy URL with any `user:password@` replaced by `***@`.
    var redactedURL: String
    /// The password inside the proxy URL, to be scrubbed from every output.
    var password: String?
    /// Set when `no_proxy` exempts the API host: the proxy is configured but not used.
    var bypassedBy: String?

    var inUse: Bool { bypassedBy == nil }

    init?(url: String, environment: [String: String]) {
        let https = url.lowercased().hasPrefix("https:")
        let names =
            https
            ? ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] : ["http_proxy", "all_proxy", "ALL_PROXY"]
        guard let name = names.first(where: { !(environment[$0] ?? "").isEmpty }), let raw = environment[name] else {
            return nil
        }
        variable = name
        (redactedURL, password) = Self.redact(raw)
        let host = Self.host(of: url)
        bypassedBy = nil
        for key in ["no_proxy", "NO_PROXY"] {
            guard let list = environment[key], !list.isEmpty else { continue }
            for entry in list.split(separator: ",") {
                var pattern = entry.trimmed(" ").lowercased()
                if pattern == "*" || pattern == host {
                    bypassedBy = key
                    break
                }
                if pattern.hasPrefix(".") { pattern.removeFirst() }
                if !pattern.isEmpty, host.hasSuffix("." + pattern) || host == pattern {
                    bypassedBy = key
                    break
                }
            }
            if bypassedBy != nil { break }
        }
    }

    /// `http://user:pw@proxy:3128` → (`http://***@proxy:3128`, `pw`).
    static func redact(_ raw: String) -> (String, String?) {
        let schemeEnd = raw.firstRange(of: "://")?.upperBound ?? raw.startIndex
        let rest = raw[schemeEnd...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return (raw, nil) }
        let userInfo = rest[..<at]
        let password = userInfo.firstIndex(of: ":").map { String(userInfo[userInfo.index(after: $0)...]) }
        return (String(raw[..<schemeEnd]) + "***" + String(rest[at...]), password.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The host of a URL, lower case, without port or brackets.
    static func host(of url: String) -> String {
        var rest = Substring(url)
        if let range = rest.firstRange(of: "://") { rest = rest[range.upperBound...] }
        rest = rest.prefix { $0 != "/" && $0 != "?" }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            return String(rest[rest.index(after: rest.startIndex)..<close]).lowercased()
        }
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        return rest.lowercased()
    }
}

extension Substring {
    func trimmed(_ set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
