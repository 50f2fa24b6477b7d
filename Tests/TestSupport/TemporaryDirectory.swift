import Foundation

/// A fresh directory under /tmp, removed with everything in it when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "emnify-edge-test") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else {
            throw TestSupportError("mkdtemp failed: errno \(errno)")
        }
        path = String(cString: result)
    }

    /// `path/name`
    public func file(_ name: String) -> String { path + "/" + name }

    public func write(_ text: String, to name: String) throws -> String {
        let target = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
        return target
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
