import EdgeConfig
import Foundation
import Testing

@Suite struct ConfigurationCheckTests {
    @Test func validFileWithTokenAndLoosePermissions() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let token = try directory.write("token", "s3cr3t-token\n", mode: 0o644)
        let path = try directory.write("edge.toml", "[api]\ntoken_file = \"\(token)\"\n", mode: 0o644)
        let check = ConfigurationCheck.run(path: path, environment: [:])
        #expect(check.isValid)
        #expect(check.lines[0] == "configuration OK: \(path)")
        #expect(check.lines[1] == "application token: from file \(token)")
        #expect(check.lines[2].hasPrefix("warning: \(token) has mode 0644"))
        #expect(!check.lines.joined().contains("s3cr3t"))
        #expect(!check.json.contains("s3cr3t"))
        let object = try JSONSerialization.jsonObject(with: Data(check.json.utf8)) as? [String: Any]
        #expect(object?["valid"] as? Bool == true)
        #expect((object?["token"] as? [String: Any])?["source"] as? String == "file \(token)")
        #expect(((object?["token"] as? [String: Any])?["permission_warning"] as? String)?.contains("0644") == true)
    }

    @Test func missingTokenIsAWarningOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("edge.toml", "[api]\ntoken_file = \"\(directory.path)/none\"\n", mode: 0o644)
        let check = ConfigurationCheck.run(path: path, environment: [:])
        #expect(check.isValid)
        #expect(check.lines[1].hasPrefix("warning: no emnify application token"))
    }

    @Test func invalidFileListsEveryProblem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("edge.toml", "[mqtt]\nport = 0\nkeepalive = \"0s\"\n", mode: 0o644)
        let check = ConfigurationCheck.run(path: path, environment: [:])
        #expect(!check.isValid)
        #expect(check.lines.count == 3)
        #expect(check.lines[0].hasPrefix("\(path):2: mqtt.port: "))
        #expect(check.lines[1].hasPrefix("\(path):3: mqtt.keepalive: "))
        #expect(check.lines[2] == "2 problems in \(path)")
        let object = try JSONSerialization.jsonObject(with: Data(check.json.utf8)) as? [String: Any]
        #expect(object?["valid"] as? Bool == false)
        let problems = object?["problems"] as? [[String: Any]]
        #expect(problems?.count == 2)
        #expect(problems?.first?["key"] as? String == "mqtt.port")
        #expect(problems?.first?["line"] as? Int == 2)
    }

    @Test func missingFile() throws {
        let check = ConfigurationCheck.run(path: "/nonexistent/edge.toml", environment: [:])
        #expect(!check.isValid)
        // Issue 14, defect 8: the path given, not a source-tree path the gateway does not have.
        #expect(check.lines == ["error: no configuration at /nonexistent/edge.toml; check the path given with --config, or create /nonexistent/edge.toml (every key has a default: an empty file is valid; /etc/emnify-edge/emnify-edge.toml holds the commented default)"])
        #expect(!check.lines.joined().contains("firmware-config"))
        let atDefault = ConfigurationError.notFound(path: ConfigurationLoader.defaultPath).description
        #expect(atDefault.contains("apt-get install --reinstall emnify-edge") && !atDefault.contains("firmware-config"))
        #expect(check.json.contains("\"error\":\"no configuration at"))
    }
}
