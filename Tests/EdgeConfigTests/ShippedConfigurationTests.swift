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
        let file = try ShippedFile(path: Self.path, role: .agent)
        #expect(file.keyPaths.sorted() == ConfigurationKey.all.map(\.path).sorted(), "every key exactly once")

        let example = try ConfigurationLoader.parse(file.uncommented(), source: "uncommented")
        let defaults = EdgeConfiguration()
        for key in ConfigurationKey.all {
            guard let defaultValue = key.render(defaults) else {
                #expect(key.render(example) != nil, "\(key.path) has an example value")
                continue
            }
            #expect(key.render(example) == defaultValue, "\(key.path) shows its default")
        }
    }

    /// Each key line is preceded, within its paragraph, by a comment that is not a key.
    @Test func everyKeyHasADescription() throws {
        let file = try ShippedFile(path: Self.path, role: .agent)
        #expect(!file.keyPaths.isEmpty)
        for (number, line) in file.keyLinesWithoutDescription {
            Issue.record("line \(number) (\(line)) has no comment above it")
        }
    }
}
