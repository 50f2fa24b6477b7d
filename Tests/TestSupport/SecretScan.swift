import Foundation

/// Looks for secrets in text a program produced (log lines, reports, bundle files, argv), in
/// the forms they could leak in: as they are, base64 (at any alignment: inside a longer
/// base64 run such as a Basic auth header, only the inner characters are fixed), base64url,
/// percent-encoded and JSON-escaped.
///
/// ```swift
/// let scan = SecretScan(["application token": token, "JWT 1": jwt])
/// #expect(scan.findings(in: output, source: "diagnose stdout").isEmpty)
/// ```
public struct SecretScan: Sendable {
    public struct Needle: Sendable {
        public let secret: String
        public let encoding: String
        public let text: String
    }

    public let needles: [Needle]

    /// `secrets`: a name for each (used in findings, never the value) and the value. Values
    /// shorter than 6 characters are refused: they would match by chance.
    public init(_ secrets: [String: String]) {
        var needles: [Needle] = []
        for (name, value) in secrets.sorted(by: { $0.key < $1.key }) {
            precondition(value.count >= 6, "secret '\(name)' is too short to scan for")
            for (encoding, text) in Self.encodings(of: value) where text.count >= 6 {
                needles.append(Needle(secret: name, encoding: encoding, text: text))
            }
        }
        self.needles = needles
    }

    /// What was found, e.g. `diagnose stdout: the application token (base64)`; empty when clean.
    public func findings(in text: String, source: String) -> [String] {
        var found: [String] = []
        for needle in needles where text.contains(needle.text) {
            found.append("\(source): \(needle.secret) (\(needle.encoding))")
        }
        return found
    }

    public func findings(in bytes: [UInt8], source: String) -> [String] {
        findings(in: String(decoding: bytes, as: UTF8.self), source: source)
    }

    /// The forms of `value` to look for, deduplicated.
    public static func encodings(of value: String) -> [(String, String)] {
        let bytes = Array(value.utf8)
        var forms: [(String, String)] = [("as is", value)]
        for offset in 0..<3 {
            // `offset` bytes before the secret shift its base64 alignment. The characters that
            // depend on neighbouring bytes are dropped: the first ceil(offset·4/3) and the last 3.
            let encoded = Data([UInt8](repeating: 0, count: offset) + bytes).base64EncodedString()
            let characters = Array(encoded.replacingOccurrences(of: "=", with: ""))
            let head = (offset * 4 + 2) / 3
            guard characters.count > head + 3 else { continue }
            let core = String(characters[head..<(characters.count - 3)])
            forms.append(("base64", core))
            forms.append(
                ("base64url", core.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")))
        }
        let unreserved = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if let percent = value.addingPercentEncoding(withAllowedCharacters: unreserved) {
            forms.append(("percent-encoded", percent))
        }
        if let json = try? JSONEncoder().encode(value), let quoted = String(data: json, encoding: .utf8) {
            forms.append(("JSON-escaped", String(quoted.dropFirst().dropLast())))
        }
        var seen = Set<String>()
        return forms.filter { seen.insert($0.1).inserted }
    }
}
