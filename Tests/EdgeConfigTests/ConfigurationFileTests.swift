import EdgeConfig
import Foundation
import Testing

@Suite struct ConfigurationFileTests {
    @Test func loadsAFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("edge.toml", "[mqtt]\nport = 1884\n", mode: 0o644)
        #expect(try ConfigurationLoader.load(contentsOf: path).mqtt.port == 1884)
    }

    @Test func missingFileSaysWhatToDo() {
        let path = "/nonexistent/emnify-edge.toml"
        #expect(throws: ConfigurationError.notFound(path: path)) { try ConfigurationLoader.load(contentsOf: path) }
        let message = ConfigurationError.notFound(path: path).description
        #expect(message.contains("no configuration at \(path)"))
        // Issue 14, defect 8: the path given, not a source-tree path a gateway does not have.
        #expect(!message.contains("firmware-config"))
        #expect(message.contains("check the path given with --config, or create \(path)"))
    }

    @Test func directoryIsUnreadable() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: ConfigurationError.unreadable(path: directory.path, reason: "it is a directory, not a file")) {
            try ConfigurationLoader.load(contentsOf: directory.path)
        }
    }

    @Test func permissionDeniedSaysSo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("locked.toml", "", mode: 0o000)
        do {
            _ = try asUnprivilegedFilesystemUser { try ConfigurationLoader.load(contentsOf: path) }
            Issue.record("a file with mode 000 was read")
        } catch {
            #expect("\(error)".contains("permission denied"))
        }
    }

    @Test func problemsNameTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("bad.toml", "[mqtt]\n\nport = 0\n", mode: 0o644)
        do {
            _ = try ConfigurationLoader.load(contentsOf: path)
            Issue.record("port 0 was accepted")
        } catch {
            #expect(error.description.hasPrefix("\(path):3: mqtt.port: "))
        }
    }
}
