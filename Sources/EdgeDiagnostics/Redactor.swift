import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// Scrubs secrets from text: every known secret value, and anything shaped like a JWT
/// (`eyJ….….…`). The checks never put secrets into their findings; this is the last line of
/// defence for text that quotes other programs (journal lines, error bodies, state files).
public struct Redactor: Sendable {
    public let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so that a secret containing another is replaced whole; very short values
        // would scrub ordinary words and are unlikely to be real secrets.
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: "<redacted>")
        }
        for jwt in Self.jwts(in: result) {
            result = result.replacing(jwt, with: "<redacted-jwt>")
        }
        return result
    }

    /// Substrings that look like a JWT: three base64url segments, the first starting `eyJ` (`{"`).
    public static func jwts(in text: String) -> [String] {
        var found: [String] = []
        let scalars = Array(text.unicodeScalars)
        func isSegment(_ s: Unicode.Scalar) -> Bool {
            switch s {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", "=": return true
            default: return false
            }
        }
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "e", index + 2 < scalars.count, scalars[index + 1] == "y",
                scalars[index + 2] == "J",
                index == 0 || !(isSegment(scalars[index - 1]) || scalars[index - 1] == ".")
            else {
                index += 1
                continue
            }
            var end = index
            var dots = 0
            while end < scalars.count, isSegment(scalars[end]) || (scalars[end] == "." && dots < 2) {
                if scalars[end] == "." { dots += 1 }
                end += 1
            }
            if dots == 2, end - index >= 20 {
                var candidate = String.UnicodeScalarView()
                candidate.append(contentsOf: scalars[index..<end])
                found.append(String(candidate))
            }
            index = max(end, index + 1)
        }
        return found
    }

    /// A TOML file with the values of secret-looking keys (`token`, `password`, `secret`, but not
    /// `*_file` paths) replaced.
    public func redactTOML(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let equals = line.firstIndex(of: "=") else { return String(line) }
            let key = line[..<equals].trimmed(" ").lowercased()
            let sensitive = ["token", "password", "passwd", "secret", "key"].contains { key.contains($0) }
            if sensitive && !key.hasSuffix("_file") && !key.hasSuffix("file") {
                return String(line[..<equals]) + "= \"<redacted>\""
            }
            return String(line)
        }
        return redact(lines.joined(separator: "\n"))
    }
}
