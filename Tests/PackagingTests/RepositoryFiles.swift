import EdgeProcess
import Foundation

/// Paths in this checkout, and small process helpers for the packaging tests.
enum RepositoryFiles {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: url(relativePath), encoding: .utf8)
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// A finished child process.
struct ToolResult {
    let status: Int32
    let output: String
}

enum Tool {
    static func exists(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Runs `executable` to completion (at most 10 minutes); stdout, then stderr, in `output`.
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> ToolResult {
        let result = try ProcessRunner.run(
            executable: executable, arguments: arguments, directory: directory?.path, timeout: .seconds(600))
        return ToolResult(status: result.status, output: String(decoding: result.stdout + result.stderr, as: UTF8.self))
    }
}
