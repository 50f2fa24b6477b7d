import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// Runs the built `emnify-edge` binary, as a user would.
enum EdgeCLI {
    static var path: String { BuiltProducts.path(of: "emnify-edge") }

    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60))
        async throws
        -> ChildProcess.Result
    {
        var env = ["PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "100"]
        env.merge(environment) { $1 }
        return try await ChildProcess.run(path, arguments, environment: env, timeout: timeout)
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

/// A configuration file pointing at a running emulator, with a static ICCID.
func writeConfiguration(for emulator: TestEmulator, iccid: String? = nil, extra: String = "") throws -> String {
    try emulator.directory.write(
        """
        [api]
        url = "\(emulator.baseURL)"
        ca_file = "\(emulator.caFile ?? "")"
        token_file = "\(emulator.directory.file("absent-token"))"
        timeout = "5s"
        connect_timeout = "2s"

        [modem]
        source = "static"
        iccid = "\(iccid ?? emulator.emulator.iccid)"

        [agent]
        state_dir = "\(emulator.directory.path)"
        \(extra)
        """, to: "emnify-edge.toml")
}
