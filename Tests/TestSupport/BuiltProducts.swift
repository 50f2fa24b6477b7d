import Foundation

/// Where SwiftPM put the built executables: the directory of the running test bundle
/// (`.build/debug/`), or `$EMNIFY_BUILT_PRODUCTS` when set.
public enum BuiltProducts {
    public static var directory: String {
        if let override = ProcessInfo.processInfo.environment["EMNIFY_BUILT_PRODUCTS"], !override.isEmpty {
            return override
        }
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // On macOS the test binary sits inside `X.xctest/Contents/MacOS/`.
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
        return directory.path
    }

    /// Path of a built executable, e.g. `path(of: "emnify-edge")`. It exists only if that
    /// product was built (`swift build --build-tests` builds all of them).
    public static func path(of product: String) -> String {
        directory + "/" + product
    }

    public static func exists(_ product: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: path(of: product))
    }
}
