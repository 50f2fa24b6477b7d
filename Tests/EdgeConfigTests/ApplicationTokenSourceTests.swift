import EdgeConfig
import Foundation
import Testing

@Suite struct ApplicationTokenSourceTests {
    @Test func orderIsEnvironmentThenCredentialThenFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var api = APIConfig()
        api.tokenFile = try directory.write("token", "from-file\n")
        let credentials = directory.path + "/creds"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try Data("from-credential\n".utf8).write(to: URL(fileURLWithPath: credentials + "/application-token"))

        let all = ["EMNIFY_APPLICATION_TOKEN": " from-env\n", "CREDENTIALS_DIRECTORY": credentials]
        let fromEnvironment = try ApplicationTokenSource.resolve(api: api, environment: all)
        #expect(fromEnvironment.value == "from-env")
        #expect(fromEnvironment.source == .environment(variable: "EMNIFY_APPLICATION_TOKEN"))

        let fromCredential = try ApplicationTokenSource.resolve(
            api: api, environment: ["CREDENTIALS_DIRECTORY": credentials, "EMNIFY_APPLICATION_TOKEN": ""])
        #expect(fromCredential.value == "from-credential")
        #expect(fromCredential.source == .credential(path: credentials + "/application-token"))
        #expect(fromCredential.permissionFinding == nil)

        let fromFile = try ApplicationTokenSource.resolve(api: api, environment: [:])
        #expect(fromFile.value == "from-file")
        #expect(fromFile.source == .file(path: api.tokenFile))
        #expect(fromFile.permissionFinding == nil)

        // A credentials directory without the credential falls through to the file.
        let emptyCredentials = directory.path + "/none"
        try FileManager.default.createDirectory(atPath: emptyCredentials, withIntermediateDirectories: true)
        let fallThrough = try ApplicationTokenSource.resolve(
            api: api, environment: ["CREDENTIALS_DIRECTORY": emptyCredentials])
        #expect(fallThrough.source == .file(path: api.tokenFile))
    }

    @Test func looseFilePermissionsAreAWarning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var api = APIConfig()
        for mode in [0o644, 0o640, 0o604, 0o660] {
            api.tokenFile = try directory.write("token-\(mode)", "abc", mode: mode)
            let token = try ApplicationTokenSource.resolve(api: api, environment: [:])
            #expect(token.value == "abc")
            let finding = try #require(token.permissionFinding)
            #expect(finding.mode == UInt32(mode))
            #expect(finding.description.contains("chmod 600 \(api.tokenFile)"))
            #expect(finding.description.contains("chown"))
        }
        api.tokenFile = try directory.write("token-400", "abc", mode: 0o400)
        #expect(try ApplicationTokenSource.resolve(api: api, environment: [:]).permissionFinding == nil)
        #expect(PermissionFinding(path: "/t", mode: 0o644).description.contains("mode 0644, so group and others"))
    }

    @Test func missingOrEmptyTokenSaysHowToProvideIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var api = APIConfig()
        api.tokenFile = directory.path + "/absent"
        #expect(throws: SecretError.applicationTokenMissing(tokenFile: api.tokenFile)) {
            try ApplicationTokenSource.resolve(api: api, environment: [:])
        }
        let message = SecretError.applicationTokenMissing(tokenFile: api.tokenFile).description
        #expect(message.contains("EMNIFY_APPLICATION_TOKEN"))
        #expect(message.contains("application-token"))
        #expect(message.contains(api.tokenFile))

        api.tokenFile = try directory.write("empty", " \n")
        #expect(throws: SecretError.empty(.file(path: api.tokenFile))) {
            try ApplicationTokenSource.resolve(api: api, environment: [:])
        }
        api.tokenFile = try directory.write("two-lines", "abc\ndef\n")
        #expect(throws: SecretError.malformed(.file(path: api.tokenFile))) {
            try ApplicationTokenSource.resolve(api: api, environment: [:])
        }
        api.tokenFile = directory.path
        #expect(throws: SecretError.self) { try ApplicationTokenSource.resolve(api: api, environment: [:]) }
    }

    @Test func secretNeverPrintsItsValue() {
        let secret = Secret(value: "s3cr3t", source: .environment(variable: "X"))
        #expect(!"\(secret)".contains("s3cr3t"))
        #expect(!String(reflecting: secret).contains("s3cr3t"))
    }

    @Test func mqttPasswordFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var mqtt = MQTTConfig()
        #expect(try SecretFile.mqttPassword(mqtt) == nil)
        mqtt.passwordFile = try directory.write("password", "hunter2\n", mode: 0o644)
        let password = try #require(try SecretFile.mqttPassword(mqtt))
        #expect(password.value == "hunter2")
        #expect(password.permissionFinding?.mode == 0o644)
        mqtt.passwordFile = directory.path + "/absent"
        #expect(throws: SecretError.passwordFileMissing(path: directory.path + "/absent")) {
            try SecretFile.mqttPassword(mqtt)
        }
    }

    @Test func unreadableTokenFileSaysPermission() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var api = APIConfig()
        api.tokenFile = try directory.write("locked", "abc", mode: 0o000)
        #expect(
            throws: SecretError.unreadable(
                path: api.tokenFile, reason: "permission denied (check the file's owner and mode, and the service user)"
            )
        ) {
            try asUnprivilegedFilesystemUser { try ApplicationTokenSource.resolve(api: api, environment: [:]) }
        }
    }
}
