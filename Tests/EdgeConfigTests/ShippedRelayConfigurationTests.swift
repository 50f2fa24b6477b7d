import EdgeConfig
import Foundation
import Testing

/// `packaging/relay.toml`, installed as `/etc/emnify-edge/relay.toml`: the twin of
/// `ShippedConfigurationTests` for the relay's file.
@Suite struct ShippedRelayConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let path = root.appendingPathComponent("packaging/relay.toml").path

    @Test func parsesToTheDefaults() throws {
        #expect(try ConfigurationLoader.load(contentsOf: Self.path, role: .relay) == EdgeConfiguration())
    }

    /// Uncommenting every `# key = value` line names every key of the relay once, and each key
    /// with a default shows exactly that default. mqtt.hosts excludes mqtt.host and mqtt.port,
    /// so the file is read once with the hosts line and once with host and port.
    @Test func namesEveryKeyWithItsDefault() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        var section = ""
        var seen: [String] = []
        var uncommented: [(path: String?, line: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("[") {
                section = String(line.dropFirst().prefix(while: { $0 != "]" }))
            }
            if line.hasPrefix("# "), let equals = line.firstIndex(of: "=") {
                let name = line.dropFirst(2)[..<equals].trimmingCharacters(in: .whitespaces)
                if ConfigurationKey.named(section, name, role: .relay) != nil {
                    seen.append("\(section).\(name)")
                    uncommented.append(("\(section).\(name)", String(line.dropFirst(2))))
                    continue
                }
            }
            uncommented.append((nil, String(line)))
        }
        #expect(seen.sorted() == ConfigurationKey.keys(for: .relay).map(\.path).sorted(), "every key exactly once")

        func variant(without excluded: Set<String>) throws -> EdgeConfiguration {
            let lines = uncommented.filter { $0.path.map { !excluded.contains($0) } ?? true }.map(\.line)
            return try ConfigurationLoader.parse(lines.joined(separator: "\n"), source: "uncommented", role: .relay)
        }
        let withHost = try variant(without: ["mqtt.hosts"])
        let withHosts = try variant(without: ["mqtt.host", "mqtt.port"])
        #expect(withHosts.mqtt.hosts.count == 3)
        let defaults = EdgeConfiguration()
        for key in ConfigurationKey.keys(for: .relay) {
            let example = key.path == "mqtt.hosts" ? withHosts : withHost
            guard let defaultValue = key.render(defaults) else {
                #expect(key.render(example) != nil, "\(key.path) has an example value")
                continue
            }
            #expect(key.render(example) == defaultValue, "\(key.path) shows its default")
        }
    }

    @Test func everyKeyHasADescription() throws {
        let lines = try String(contentsOfFile: Self.path, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
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

    @Test func hasNoSectionOfTheAgent() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        #expect(!text.contains("\n[modem]") && !text.contains("\n[agent]"))
    }
}

/// deploy/README.md's reference of relay.toml is generated from the key table, so it cannot drift.
/// `UPDATE_GOLDEN=1 swift test --filter DeployReadmeReferenceTests` rewrites it.
@Suite struct DeployReadmeReferenceTests {
    static let readme = ShippedRelayConfigurationTests.root.appendingPathComponent("deploy/README.md")
    static let begin = "<!-- relay-config-reference:begin -->\n"
    static let end = "<!-- relay-config-reference:end -->"

    @Test func readmeHasTheCurrentRelayReference() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        let start = try #require(text.range(of: Self.begin))
        let stop = try #require(text.range(of: Self.end, range: start.upperBound..<text.endIndex))
        let expected = ConfigurationReference.markdown(role: .relay)
        let current = String(text[start.upperBound..<stop.lowerBound])
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1", current != expected {
            try (String(text[..<start.upperBound]) + expected + String(text[stop.lowerBound...]))
                .write(to: Self.readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == expected, "deploy/README.md's relay reference is out of date")
    }
}
