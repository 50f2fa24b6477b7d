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
        let file = try ShippedFile(path: Self.path, role: .relay)
        #expect(
            file.keyPaths.sorted() == ConfigurationKey.keys(for: .relay).map(\.path).sorted(), "every key exactly once")

        func variant(without excluded: Set<String>) throws -> EdgeConfiguration {
            try ConfigurationLoader.parse(file.uncommented(without: excluded), source: "uncommented", role: .relay)
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
        let file = try ShippedFile(path: Self.path, role: .relay)
        #expect(!file.keyPaths.isEmpty)
        for (number, line) in file.keyLinesWithoutDescription {
            Issue.record("line \(number) (\(line)) has no comment above it")
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
        try GeneratedMarkdown.expectCurrent(
            Self.readme, begin: Self.begin, end: Self.end, expected: ConfigurationReference.markdown(role: .relay),
            outOfDate: "deploy/README.md's relay reference is out of date")
    }
}
