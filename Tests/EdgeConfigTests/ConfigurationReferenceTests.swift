import EdgeConfig
import Foundation
import Testing

@Suite struct ConfigurationReferenceTests {
    @Test func oneRowPerKeyInSectionTables() {
        let markdown = ConfigurationReference.markdown()
        for section in ConfigurationKey.sections {
            #expect(
                markdown.contains(
                    "### `[\(section)]`\n\n| Key | Type | Default | Description |\n| --- | --- | --- | --- |\n"))
        }
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| `") }
        #expect(rows.count == ConfigurationKey.all.count)
        #expect(markdown.contains("| `url` | URL | `\"https://cdn.emnify.net\"` | Base URL of the emnify REST API."))
        #expect(markdown.contains("| `poll_interval` | duration | `\"1m\"` |"))
        #expect(markdown.contains("| `port` | integer (1–65535) | `1883` |"))
        #expect(markdown.contains("| `ca_file` | path | unset: the system trust store |"))
        #expect(markdown.contains("| `protocol` | one of \"auto\", \"5\", \"3.1.1\" | `\"auto\"` |"))
    }

    @Test func cellsAreEscaped() throws {
        let key = try #require(ConfigurationKey.named("mqtt", "topic_prefix"))
        let markdown = ConfigurationReference.markdown(keys: [key])
        // Every row has exactly five unescaped pipes.
        for row in markdown.split(separator: "\n") where row.hasPrefix("|") {
            let pipes = row.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count
            #expect(pipes == 5)
        }
    }

    @Test func keyTableIsConsistent() {
        let paths = ConfigurationKey.all.map(\.path)
        #expect(Set(paths).count == paths.count, "no key twice")
        for key in ConfigurationKey.all {
            #expect(ConfigurationKey.sections.contains(key.section))
            #expect(!key.summary.isEmpty)
            #expect(key.render(EdgeConfiguration()) != nil || key.unsetMeaning != nil)
            #expect(key.name == key.name.lowercased() && !key.name.contains("-"))
        }
    }

    /// The defaults written out as TOML read back as the defaults.
    @Test func renderedDefaultsRoundTrip() throws {
        var text = ""
        for section in ConfigurationKey.sections {
            text += "[\(section)]\n"
            for key in ConfigurationKey.all where key.section == section {
                if let value = key.render(EdgeConfiguration()) { text += "\(key.name) = \(value)\n" }
            }
        }
        #expect(try ConfigurationLoader.parse(text, source: "rendered") == EdgeConfiguration())
    }
}
