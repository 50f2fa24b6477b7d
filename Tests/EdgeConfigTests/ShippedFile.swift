import EdgeConfig
import Foundation

/// A shipped configuration file that lists its keys commented out (`# key = value`), as
/// `firmware-config/emnify-edge.toml` (the agent's) and `packaging/relay.toml` (the relay's) do.
struct ShippedFile {
    /// Every line of the file; `path` is the key (`section.name`) when the line is one of `role`'s
    /// keys commented out, and `uncommented` is then the line without its `# `.
    let lines: [(path: String?, uncommented: String)]
    let text: String

    init(path: String, role: ConfigurationRole) throws {
        text = try String(contentsOfFile: path, encoding: .utf8)
        var section = ""
        var lines: [(path: String?, uncommented: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("[") {
                section = String(line.dropFirst().prefix(while: { $0 != "]" }))
            }
            if line.hasPrefix("# "), let equals = line.firstIndex(of: "=") {
                let name = line.dropFirst(2)[..<equals].trimmingCharacters(in: .whitespaces)
                if ConfigurationKey.named(section, name, role: role) != nil {
                    lines.append(("\(section).\(name)", String(line.dropFirst(2))))
                    continue
                }
            }
            lines.append((nil, String(line)))
        }
        self.lines = lines
    }

    /// The keys written commented out, in file order (a key written twice is here twice).
    var keyPaths: [String] { lines.compactMap(\.path) }

    /// The file with every commented key but `excluded` uncommented.
    func uncommented(without excluded: Set<String> = []) -> String {
        lines.filter { $0.path.map { !excluded.contains($0) } ?? true }.map(\.uncommented).joined(separator: "\n")
    }

    /// The key lines (`# name = …`, 1-based numbers) with no comment above them within their paragraph.
    var keyLinesWithoutDescription: [(number: Int, line: String)] {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func isKeyLine(_ line: String) -> Bool { line.range(of: #"^# [a-z_]+ = "#, options: .regularExpression) != nil }
        var found: [(number: Int, line: String)] = []
        for (index, line) in all.enumerated() where isKeyLine(line) {
            var previous = index - 1
            while previous >= 0, isKeyLine(all[previous]) { previous -= 1 }
            if !(previous >= 0 && all[previous].hasPrefix("#")) { found.append((index + 1, line)) }
        }
        return found
    }
}
