import Foundation
import Testing
import TestSupport

/// `emnify-edge identity` through the built binary: static identity, and a missing
/// ModemManager reported with the typed error and a non-zero exit.
@Suite struct IdentityCLITests {
    func configuration(_ modem: String) throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let path = try directory.write("[modem]\n\(modem)\n", to: "emnify-edge.toml")
        return (directory, path)
    }

    @Test func printsAStaticIdentityAsJSON() async throws {
        let (directory, path) = try configuration(
            "source = \"static\"\niccid = \"89883070000012345674F\"\nimei = \"865326061591809\"")
        _ = directory
        let result = try await EdgeCLI.run(["identity", "--config", path, "--json"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect("\(object)".contains("89883070000012345674"))
        #expect("\(object)".contains("865326061591809"))
        let text = try await EdgeCLI.run(["identity", "--config", path])
        #expect(
            text.exitCode == 0 && text.standardOutput.contains("ICCID (19)")
                && text.standardOutput.contains("8988307000001234567"))
    }

    @Test func aMissingModemManagerFailsWithTheNextStep() async throws {
        let (directory, path) = try configuration(
            "source = \"static\"\niccid = \"89883070000012345674\"\nmmcli = \"/nonexistent/mmcli\"")
        _ = directory
        let result = try await EdgeCLI.run(["identity", "--config", path, "--source", "modemmanager"])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("mmcli"))
    }
}
