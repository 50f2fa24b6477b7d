import Foundation
import Testing
import TestSupport

/// `emnify-edge bridge-config` through the built binary: what it writes, and every refusal with its reason.
/// The password must never appear in what the command prints.
@Suite struct BridgeConfigCLITests {
    static let iccid = "89883070000012345674"
    /// emnify's `iccid` field: the 19 digits without the Luhn check digit, as the agent's topics name the SIM.
    static let topicICCID = "8988307000001234567"
    static let password = "bridge-pw-Zq81xKv3"

    /// A configuration with a static identity, and a password file of `mode`.
    struct Setup {
        let directory: TemporaryDirectory
        let config: String
        let passwordFile: String

        init(prefix: String? = nil, passwordMode: Int = 0o600) throws {
            directory = try TemporaryDirectory()
            var text = "[modem]\nsource = \"static\"\niccid = \"\(BridgeConfigCLITests.iccid)\"\n"
            text += "[agent]\nevents = \"bridge\"\n"
            if let prefix { text += "[mqtt]\ntopic_prefix = \"\(prefix)\"\n" }
            config = try directory.write(text, to: "emnify-edge.toml")
            passwordFile = try directory.write(BridgeConfigCLITests.password + "\n", to: "bridge-password")
            try FileManager.default.setAttributes([.posixPermissions: passwordMode], ofItemAtPath: passwordFile)
        }

        func run(_ arguments: [String]) async throws -> ChildProcess.Result {
            let result = try await EdgeCLI.run(["bridge-config", "--config", config] + arguments)
            #expect(!result.standardOutput.contains(BridgeConfigCLITests.password), "the password was printed")
            #expect(!result.standardError.contains(BridgeConfigCLITests.password), "the password was printed")
            return result
        }
    }

    @Test func printsTheSnippetWithTheAgentsTopics() async throws {
        let setup = try Setup()
        let result = try await setup.run(["--cluster", "nats-1.example.net:8883", "--cluster", "10.0.0.2:8883"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("addresses nats-1.example.net:8883 10.0.0.2:8883"))
        #expect(lines.contains("remote_clientid emnify-gw-\(Self.topicICCID)"))
        #expect(lines.contains("notification_topic emnify/\(Self.topicICCID)/bridge"))
        #expect(lines.contains("topic emnify/\(Self.topicICCID)/event/+ in 1"))
        #expect(lines.contains("topic emnify/relay/+/status in 0"))
        #expect(lines.contains("bridge_capath /etc/ssl/certs"), "TLS with the system trust store by default")
        #expect(!lines.contains { $0.hasPrefix("remote_username") || $0.hasPrefix("remote_password") })
        #expect(!result.standardOutput.contains("@"), "a field was left unfilled")
        #expect(result.standardError.isEmpty, "\(result.standardError)")
    }

    /// `--iccid` wins over the modem; the prefix is sanitized as the agent's TopicLayout does (no empty level).
    @Test func iccidOverrideAndPrefix() async throws {
        let setup = try Setup(prefix: "site//7/emnify")
        let result = try await setup.run(["--cluster", "127.0.0.1:1883", "--no-tls", "--iccid", "8988303000000001000F"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("\ntopic site/7/emnify/8988303000000001000/event/+ in 1\n"))
        #expect(result.standardOutput.contains("\ntopic site/7/emnify/relay/+/status in 0\n"))
        #expect(result.standardOutput.contains("\nnotification_topic site/7/emnify/8988303000000001000/bridge\n"))
        #expect(!result.standardOutput.contains("bridge_capath") && !result.standardOutput.contains("bridge_cafile"))

        let bad = try await setup.run(["--cluster", "127.0.0.1:1883", "--no-tls", "--iccid", "12AB"])
        #expect(bad.exitCode == 1 && bad.standardError.contains("--iccid"), "\(bad.standardError)")
    }

    @Test func badClusterAddressesAreRefused() async throws {
        let setup = try Setup()
        let cases: [([String], String)] = [
            ([], "no cluster node given"),
            (["--cluster", "nats-1.example.net"], "has no port"),
            (["--cluster", "mqtts://nats-1.example.net:8883"], "is a URL"),
            (["--cluster", "nats-1.example.net:99999"], "is not a port"),
            (["--cluster", "::1:1883"], "in brackets"),
            (["--cluster", "a.example.net:8883", "--cluster", "a.example.net:8883"], "given twice"),
        ]
        for (arguments, message) in cases {
            let result = try await setup.run(arguments)
            #expect(result.exitCode == 1, "\(arguments)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
            #expect(result.standardOutput.isEmpty)
        }
    }

    @Test func plainTCPOnlyToLoopback() async throws {
        let setup = try Setup()
        let remote = try await setup.run([
            "--cluster", "127.0.0.1:1883", "--cluster", "nats-2.example.net:1883", "--no-tls",
        ])
        #expect(remote.exitCode == 1)
        #expect(
            remote.standardError.contains("--no-tls is only for a cluster on this machine"), "\(remote.standardError)")
        #expect(remote.standardError.contains("nats-2.example.net:1883"))
        for host in ["127.0.0.1:1883", "localhost:1883", "[::1]:1883"] {
            let local = try await setup.run(["--cluster", host, "--no-tls"])
            #expect(local.exitCode == 0, "\(host): \(local.standardError)")
        }
        let both = try await setup.run(["--cluster", "127.0.0.1:1883", "--no-tls", "--ca-file", "/etc/hostname"])
        #expect(both.exitCode == 1 && both.standardError.contains("exclude each other"))
    }

    @Test func aPasswordIsNeverPrintedToStandardOutput() async throws {
        let setup = try Setup()
        let result = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--username", "gateway", "--password-file", setup.passwordFile,
        ])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("give --output"), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }

    @Test func aPasswordFileOthersCanReadIsRefused() async throws {
        let setup = try Setup(passwordMode: 0o644)
        let output = setup.directory.file("emnify-bridge.conf")
        let result = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--username", "gateway", "--password-file", setup.passwordFile,
            "--output", output,
        ])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("has mode 0644"), "\(result.standardError)")
        #expect(result.standardError.contains("chmod 600"))
        #expect(!FileManager.default.fileExists(atPath: output), "nothing is written on a refusal")
    }

    @Test func passwordFileProblems() async throws {
        let setup = try Setup()
        let output = setup.directory.file("emnify-bridge.conf")
        let missing = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--username", "gateway", "--password-file",
            setup.directory.file("absent"), "--output", output,
        ])
        #expect(missing.exitCode == 1 && missing.standardError.contains("does not exist"), "\(missing.standardError)")
        let noUser = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--password-file", setup.passwordFile, "--output", output,
        ])
        #expect(noUser.exitCode == 1 && noUser.standardError.contains("needs --username"), "\(noUser.standardError)")
        let twoWords = try setup.directory.write("two words\n", to: "two-words")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: twoWords)
        let malformed = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--username", "gateway", "--password-file", twoWords,
            "--output", output,
        ])
        #expect(malformed.exitCode == 1 && malformed.standardError.contains("more than one word"))
    }

    /// The file is written whole (no temporary file left beside it), mode 0640, with the credentials.
    @Test func writesTheOutputFileAtomicallyWithMode0640() async throws {
        let setup = try Setup()
        let directory = try TemporaryDirectory()
        let output = directory.file("emnify-bridge.conf")
        try "stale\n".write(toFile: output, atomically: false, encoding: .utf8)
        let result = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--username", "gateway", "--password-file", setup.passwordFile,
            "--output", output,
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("wrote \(output)"))
        #expect(result.standardOutput.contains("systemctl restart mosquitto"))
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.contains("\nremote_username gateway\nremote_password \(Self.password)\n"))
        let attributes = try FileManager.default.attributesOfItem(atPath: output)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["emnify-bridge.conf"])

        let unwritable = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--output", directory.file("absent/emnify-bridge.conf"),
        ])
        #expect(unwritable.exitCode == 1 && unwritable.standardError.contains("--output"))
    }

    @Test func caFile() async throws {
        let setup = try Setup()
        let pem = try setup.directory.write(
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", to: "cluster-ca.pem")
        let result = try await setup.run(["--cluster", "nats-1.example.net:8883", "--ca-file", pem])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("\nbridge_cafile \(pem)\n"))
        #expect(!result.standardOutput.contains("bridge_capath"))
        let notPEM = try await setup.run(["--cluster", "nats-1.example.net:8883", "--ca-file", setup.config])
        #expect(notPEM.exitCode == 1 && notPEM.standardError.contains("no PEM certificate"))
        let missing = try await setup.run([
            "--cluster", "nats-1.example.net:8883", "--ca-file", setup.directory.file("absent.pem"),
        ])
        #expect(missing.exitCode == 1 && missing.standardError.contains("--ca-file"))
    }

    /// Without --iccid the SIM is read as `emnify-edge identity` reads it, and a failure says what to do.
    @Test func theModemIsReadLikeIdentity() async throws {
        let setup = try Setup()
        let fromModem = try await setup.run(["--cluster", "127.0.0.1:1883", "--no-tls", "--source", "static"])
        #expect(fromModem.exitCode == 0 && fromModem.standardOutput.contains("emnify-gw-\(Self.topicICCID)"))
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "[modem]\nsource = \"modemmanager\"\nmmcli = \"/nonexistent/mmcli\"\n", to: "e.toml")
        let failed = try await EdgeCLI.run([
            "bridge-config", "--config", config, "--cluster", "127.0.0.1:1883", "--no-tls",
        ])
        #expect(failed.exitCode == 1)
        #expect(failed.standardError.contains("cannot read the SIM's identity"), "\(failed.standardError)")
        #expect(failed.standardError.contains("--iccid"))
        #expect(failed.standardError.contains("warning: [agent] events") == false, "refused before any warning")
    }

    @Test func warnsWhenTheAgentDoesNotUseTheBridge() async throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("[modem]\nsource = \"static\"\niccid = \"\(Self.iccid)\"\n", to: "e.toml")
        let result = try await EdgeCLI.run([
            "bridge-config", "--config", config, "--cluster", "127.0.0.1:1883", "--no-tls",
        ])
        #expect(result.exitCode == 0)
        #expect(result.standardError.contains("warning: [agent] events is \"poll\""), "\(result.standardError)")
    }

    @Test func aTemplateOfOnesOwnMustHaveEveryField() async throws {
        let setup = try Setup()
        let shipped = try String(
            contentsOfFile: EdgeCLI.repositoryRoot + "/firmware-config/mosquitto/emnify-bridge.conf.in", encoding: .utf8
        )
        let lacking = try setup.directory.write(shipped.replacingOccurrences(of: "@TLS@", with: ""), to: "lacking.in")
        let result = try await setup.run(["--cluster", "127.0.0.1:1883", "--no-tls", "--template", lacking])
        #expect(result.exitCode == 1 && result.standardError.contains("no @TLS@ field"), "\(result.standardError)")
        let unknown = try setup.directory.write(shipped + "bridge_bind_address @BIND@\n", to: "unknown.in")
        let other = try await setup.run(["--cluster", "127.0.0.1:1883", "--no-tls", "--template", unknown])
        #expect(other.exitCode == 1 && other.standardError.contains("@BIND@"), "\(other.standardError)")
        // The built-in template is the shipped file.
        let builtIn = try await setup.run(["--cluster", "127.0.0.1:1883", "--no-tls"])
        let fromFile = try await setup.run([
            "--cluster", "127.0.0.1:1883", "--no-tls", "--template",
            EdgeCLI.repositoryRoot + "/firmware-config/mosquitto/emnify-bridge.conf.in",
        ])
        #expect(builtIn.exitCode == 0 && builtIn.standardOutput == fromFile.standardOutput)
    }
}
