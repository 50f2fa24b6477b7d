import EdgeConfig
import Foundation
import Glibc
import Testing

/// `ConfigurationCheck` with the relay's role: what `emnify-edge config check --relay` prints and
/// what `emnify-edge relay` is to refuse.
@Suite struct RelayConfigurationCheckTests {
    static let webhookToken = "0123456789abcdef0123456789abcdef"

    /// A relay file in `directory` with its tokens as files; returns its path.
    static func relayFile(
        in directory: TemporaryDirectory, webhookToken: String? = webhookToken, extra: String = ""
    ) throws -> String {
        let token = try directory.write("application-token", "app-t0ken\n")
        if let webhookToken { try directory.write("webhook-token", webhookToken + "\n") }
        try FileManager.default.createDirectory(atPath: directory.path + "/state", withIntermediateDirectories: true)
        return try directory.write(
            "relay.toml",
            """
            [api]
            token_file = "\(token)"
            [relay]
            webhook_token_file = "\(directory.path)/webhook-token"
            state_dir = "\(directory.path)/state"
            \(extra)
            """, mode: 0o644)
    }

    @Test func aValidRelayFileSaysWhereEverythingComesFrom() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.relayFile(in: directory, extra: "[mqtt]\nhosts = [\"n2:1883\", \"n1:1883\"]")
        let check = ConfigurationCheck.run(path: path, environment: [:], role: .relay)
        #expect(check.isValid, "\(check.lines)")
        #expect(
            check.lines == [
                "configuration OK: \(path)",
                "application token: from file \(directory.path)/application-token",
                "webhook token: from file \(directory.path)/webhook-token",
                "webhook: http://127.0.0.1:8088/emnify/events",
                "mqtt brokers, tried in order: n2:1883, n1:1883",
                "polling: every 1m",
            ])
        #expect(!check.lines.joined().contains(Self.webhookToken))
        #expect(!check.json.contains(Self.webhookToken))
        let object = try JSONSerialization.jsonObject(with: Data(check.json.utf8)) as? [String: Any]
        #expect(object?["valid"] as? Bool == true)
        #expect(object?["role"] as? String == "relay")
        #expect(
            (object?["webhook_token"] as? [String: Any])?["source"] as? String == "file \(directory.path)/webhook-token"
        )
        #expect((object?["state_dir"] as? [String: Any])?["path"] as? String == "\(directory.path)/state")
    }

    /// The agent's check of its own file says nothing of the relay (its output is as before).
    @Test func theAgentsCheckIsUnchanged() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let token = try directory.write("token", "t0ken")
        let path = try directory.write(
            "edge.toml", "[api]\ntoken_file = \"\(token)\"\n[agent]\nstate_dir = \"\(directory.path)\"\n")
        let check = ConfigurationCheck.run(path: path, environment: [:])
        #expect(check.lines == ["configuration OK: \(path)", "application token: from file \(token)"])
        #expect(!check.json.contains("role") && !check.json.contains("webhook"))
    }

    @Test func theWebhookTokenComesFromTheEnvironmentTheCredentialOrTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.relayFile(in: directory, webhookToken: nil)
        let missing = ConfigurationCheck.run(path: path, environment: [:], role: .relay)
        #expect(!missing.isValid)
        #expect(missing.lines.first?.hasPrefix("error: no webhook token: set EMNIFY_WEBHOOK_TOKEN") == true)
        #expect(missing.lines.contains("1 problem: emnify-edge relay refuses \(path) until it is fixed"))

        let fromEnvironment = ConfigurationCheck.run(
            path: path, environment: ["EMNIFY_WEBHOOK_TOKEN": Self.webhookToken], role: .relay)
        #expect(fromEnvironment.isValid)
        #expect(fromEnvironment.lines.contains("webhook token: from environment variable EMNIFY_WEBHOOK_TOKEN"))

        let credentials = directory.path + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try directory.write("credentials/webhook-token", Self.webhookToken, mode: 0o644)
        let fromCredential = ConfigurationCheck.run(
            path: path, environment: ["CREDENTIALS_DIRECTORY": credentials], role: .relay)
        #expect(fromCredential.isValid)
        #expect(fromCredential.lines.contains("webhook token: from systemd credential \(credentials)/webhook-token"))
        // The credential's mode is systemd's business: no warning.
        #expect(!fromCredential.lines.contains { $0.contains("has mode") })
    }

    @Test func aWeakOrMalformedWebhookTokenIsAProblem() throws {
        let cases: [(String, String)] = [
            ("short-secret", "too short for a webhook token"), ("", "is empty"),
            ("two words here and more", "holds more than one word"),
            ("\"quoted-secret-of-enough-length\"", "characters a bearer token cannot have"),
            ("sécrét-with-accents-long-enough", "characters a bearer token cannot have"),
        ]
        for (token, message) in cases {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = try Self.relayFile(in: directory, webhookToken: token)
            let check = ConfigurationCheck.run(path: path, environment: [:], role: .relay)
            #expect(!check.isValid, "\(token)")
            #expect(check.lines.first?.contains(message) == true, "\(token): \(check.lines)")
            if !token.isEmpty {
                #expect(!check.lines.joined().contains(token) && !check.json.contains(token), "never the token")
            }
        }
        // Base64 with padding is a bearer token.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.relayFile(in: directory, webhookToken: "QUJDREVGR0hJSktMTU5PUA+/_-~.==")
        #expect(ConfigurationCheck.run(path: path, environment: [:], role: .relay).isValid)
    }

    @Test func aWebhookTokenFileReadableByOthersIsAWarning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.relayFile(in: directory)
        chmod(directory.path + "/webhook-token", 0o644)
        let check = ConfigurationCheck.run(path: path, environment: [:], role: .relay)
        #expect(check.isValid)
        #expect(check.lines.contains { $0.hasPrefix("warning: \(directory.path)/webhook-token has mode 0644") })
    }

    @Test func theTLSFilesAreChecked() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificate = try directory.write(
            "cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", mode: 0o644)
        let key = try directory.write(
            "key.pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", mode: 0o640)
        let good = ConfigurationCheck.run(
            path: try Self.relayFile(
                in: directory, extra: "tls_certificate = \"\(certificate)\"\ntls_key = \"\(key)\""),
            environment: [:], role: .relay)
        #expect(good.isValid, "\(good.lines)")
        #expect(good.lines.contains { $0.hasPrefix("warning: \(key) has mode 0640") })
        #expect(good.lines.contains("webhook: https://127.0.0.1:8088/emnify/events"))

        let swapped = ConfigurationCheck.run(
            path: try Self.relayFile(
                in: directory, extra: "tls_certificate = \"\(key)\"\ntls_key = \"\(certificate)\""),
            environment: [:], role: .relay)
        #expect(!swapped.isValid)
        #expect(swapped.problems.count == 2)
        #expect(swapped.problems.allSatisfy { $0.contains("check that certificate and key are not swapped") })

        let missing = ConfigurationCheck.run(
            path: try Self.relayFile(
                in: directory, extra: "tls_certificate = \"\(directory.path)/none.pem\"\ntls_key = \"\(key)\""),
            environment: [:], role: .relay)
        #expect(
            missing.problems == [
                "relay.tls_certificate \(directory.path)/none.pem cannot be read: no such file; the webhook cannot serve "
                    + "HTTPS without it"
            ])
    }

    @Test func theRelaysStateDirectoryIsReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.relayFile(in: directory)
        try FileManager.default.removeItem(atPath: directory.path + "/state")
        let missing = ConfigurationCheck.run(path: path, environment: [:], role: .relay)
        #expect(missing.isValid)
        #expect(
            missing.lines.contains {
                $0.hasPrefix(
                    "warning: relay.state_dir \(directory.path)/state does not exist; emnify-edge relay creates it")
            })
        try directory.write("state", "not a directory")
        let file = ConfigurationCheck.run(path: path, environment: [:], role: .relay)
        #expect(!file.isValid)
        #expect(file.problems.first?.hasPrefix("relay.state_dir \(directory.path)/state is not a directory") == true)
    }

    /// A relay file checked as the agent's (and the reverse) fails with the section's right file.
    @Test func theWrongRoleIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.relayFile(in: directory)
        let asAgent = ConfigurationCheck.run(path: path, environment: [:])
        #expect(!asAgent.isValid)
        #expect(asAgent.lines.first?.contains("[relay] belongs in the relay's file") == true)
        let agentFile = try directory.write("edge.toml", "[agent]\nstate_dir = \"\(directory.path)/state\"\n")
        let asRelay = ConfigurationCheck.run(path: agentFile, environment: [:], role: .relay)
        #expect(!asRelay.isValid)
        #expect(asRelay.lines.first?.contains("[agent] belongs in the agent's file") == true, "\(asRelay.lines)")
    }
}
