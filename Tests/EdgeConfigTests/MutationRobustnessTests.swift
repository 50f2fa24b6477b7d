import EdgeConfig
import Foundation
import Testing
import TestSupport

/// The configuration loader fed mutated versions of the shipped file: a configuration or a
/// list of problems, never a crash.
@Suite struct ConfigurationMutationRobustnessTests {
    @Test func mutatedConfigurationsNeverCrash() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("firmware-config/emnify-edge.toml").path
        // Uncomment every key so the mutations hit values, not only comments.
        let original = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\n# ", with: "\n")
        var mutator = Mutator(seed: 0x70F1)
        var valid = 0, invalid = 0
        for _ in 0..<1500 {
            let text = String(decoding: mutator.mutate(Array(original.utf8)), as: UTF8.self)
            do {
                _ = try ConfigurationLoader.parse(text, source: "mutated.toml")
                valid += 1
            } catch {
                #expect(!error.problems.isEmpty)
                invalid += 1
            }
        }
        #expect(invalid > 0)
    }
}
