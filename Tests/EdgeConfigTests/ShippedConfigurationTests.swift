import EdgeConfig
import Foundation
import Testing

/// `firmware-config/emnify-edge.toml`, the file gateway makers ship.
@Suite struct ShippedConfigurationTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("firmware-config/emnify-edge.toml").path

    @Test func parsesToTheDefaults() throws {
        #expect(try ConfigurationLoader.load(contentsOf: Self.path) == EdgeConfiguration())
    }

    /// Uncommenting every `# key = value` line gives a valid file that names every key once,
    /// and each key with a default shows exactly that default.
    @Test func namesEveryKeyWithItsDefault() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        var section = ""
        var seen: [String] = []
        var uncommented: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("[") {
                section = String(line.dropFirst().prefix(while: { $0 != "]" }))
            }
            if line.hasPrefix("# "), let equals = line.firstIndex(of: "=") {
                let name = line.dropFirst(2)[..<equals].trimmingCharacters(in: .whitespaces)
                if ConfigurationKey.named(section, name) != nil {
                    seen.append("\(section).\(name)")
                    uncommented.append(String(line.dropFirst(2)))
                    continue
                }
            }
            uncommented.append(String(line))
        }
        #expect(seen.sorted() == ConfigurationKey.all.map(\.path).sorted(), "every key exactly once")

        let example = try ConfigurationLoader.parse(uncommented.joined(separator: "\n"), source: "uncommented")
        let defaults = EdgeConfiguration()
        for key in ConfigurationKey.all {
            guard let defaultValue = key.render(defaults) else {
                #expect(key.render(example) != nil, "\(key.path) has an example value")
                continue
            }
            #expect(key.render(example) == defaultValue, "\(key.path) shows its default")
        }
    }

    @Test func everyKeyHasADescription() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        // Each key line is preceded, within its paragraph, by a comment that is not a key.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated()
        where line.range(of: #"^# [a-z_]+ = "#, options: .regularExpression) != nil {
            var previous = index - 1
            while previous >= 0, lines[previous].range(of: #"^# [a-z_]+ = "#, options: .regularExpression) != nil {
                previous -= 1
            }
            #expect(
                previous >= 0 && lines[previous].hasPrefix("#"), "line \(index + 1) (\(line)) has no comment above it")
        }
    }
}
