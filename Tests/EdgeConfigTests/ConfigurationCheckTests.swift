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

    /// Issue 14, defect 5: `run` refuses these, so `config check` must not pass them.
    @Test func aMissingEmptyOrTwoWordTokenIsAProblem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cases: [(String?, String)] = [
            (nil, "no emnify application token"), ("", "is empty"), ("\n  \n", "is empty"),
            ("two words\n", "holds more than one word"),
        ]
        for (index, (content, message)) in cases.enumerated() {
            let token = directory.path + "/token-\(index)"
            if let content { try directory.write("token-\(index)", content) }
            let path = try directory.write("edge-\(index).toml", "[api]\ntoken_file = \"\(token)\"\n", mode: 0o644)
            let check = ConfigurationCheck.run(path: path, environment: [:])
            #expect(!check.isValid, "\(content.debugDescription)")
            #expect(check.lines.first?.hasPrefix("error: ") == true && check.lines.first?.contains(message) == true)
            #expect(!check.lines.joined().contains("configuration OK"))
            #expect(check.lines.contains("1 problem: emnify-edge run refuses \(path) until it is fixed"))
            #expect(!check.json.contains("two words"), "never the token")
            let object = try JSONSerialization.jsonObject(with: Data(check.json.utf8)) as? [String: Any]
            #expect(object?["valid"] as? Bool == false)
            #expect(((object?["token"] as? [String: Any])?["error"] as? String)?.contains(message) == true)
        }
    }

    /// The same order of sources as `run`: the environment wins over a broken token file.
    @Test func theEnvironmentAndTheCredentialComeBeforeTheTokenFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let token = try directory.write("token", "")
        let path = try directory.write("edge.toml", "[api]\ntoken_file = \"\(token)\"\n", mode: 0o644)
        let fromEnvironment = ConfigurationCheck.run(path: path, environment: ["EMNIFY_APPLICATION_TOKEN": "env-t0ken"])
        #expect(fromEnvironment.isValid)
        #expect(fromEnvironment.lines.contains("application token: from environment variable EMNIFY_APPLICATION_TOKEN"))
        let credentials = directory.path + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try directory.write("credentials/application-token", "two words")
        let fromCredential = ConfigurationCheck.run(path: path, environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(!fromCredential.isValid, "the credential is used (and refused) before the token file")
        #expect(fromCredential.lines.first?.contains("systemd credential") == true)
        #expect(!fromCredential.json.contains("two words"))
    }

    /// Issue 14, defect 8: a missing state directory is reported; something else in its place is a problem.
    @Test func theStateDirectoryIsReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let token = try directory.write("token", "t0ken")
        let missing = directory.path + "/state"
        let path = try directory.write(
            "edge.toml", "[api]\ntoken_file = \"\(token)\"\n[agent]\nstate_dir = \"\(missing)\"\n", mode: 0o644)
        let check = ConfigurationCheck.run(path: path, environment: [:])
        #expect(check.isValid)
        #expect(
            check.lines.contains {
                $0.hasPrefix("warning: agent.state_dir \(missing) does not exist; emnify-edge run creates it")
            })
        #expect(check.json.contains("\"state_dir\":{\"path\":\"\(missing)\",\"problem\":\"agent.state_dir"))
        try directory.write("state", "not a directory")
        let blocked = ConfigurationCheck.run(path: path, environment: [:])
        #expect(!blocked.isValid)
        #expect(
            blocked.lines.first
                == "error: agent.state_dir \(missing) is not a directory; the agent could save no state and every restart would publish the backfill again: remove it or choose another state_dir"
        )
        try FileManager.default.removeItem(atPath: missing)
        try FileManager.default.createDirectory(atPath: missing, withIntermediateDirectories: true)
        #expect(!ConfigurationCheck.run(path: path, environment: [:]).lines.joined().contains("state_dir"))
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
        #expect(
            check.lines == [
                "error: no configuration at /nonexistent/edge.toml; check the path given with --config, or create /nonexistent/edge.toml (every key has a default: an empty file is valid; /etc/emnify-edge/emnify-edge.toml holds the commented default)"
            ])
        #expect(!check.lines.joined().contains("firmware-config"))
        let atDefault = ConfigurationError.notFound(path: ConfigurationLoader.defaultPath).description
        #expect(atDefault.contains("apt-get install --reinstall emnify-edge") && !atDefault.contains("firmware-config"))
        #expect(check.json.contains("\"error\":\"no configuration at"))
    }
}
