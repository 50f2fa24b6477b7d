import EmnifyEmulator
import Foundation
import TestSupport
import Testing

/// A gateway on the bench: the emulator (HTTPS), optionally a real mosquitto with a password,
/// a configuration with secrets in 0600 files, and `emnify-edge run` as a child when asked.
final class DiagnoseFixture: @unchecked Sendable {
    static let token = "diag-app-token-7QxK2mZp"
    static let mqttUser = "edge"
    static let mqttPassword = "mqtt-pass-S3cr3tW9"
    static let proxyPassword = "proxy-pw-9zLq"

    let emulator: TestEmulator
    let broker: MosquittoBroker?
    let directory: TemporaryDirectory
    let configPath: String
    private(set) var agent: RunningProcess?

    var stateDirectory: String { directory.file("state") }

    /// `history: 0` and two injected events leave the emulator ONLINE with no Warn events.
    init(
        token: String = DiagnoseFixture.token, broker withBroker: Bool = true, brokerPort: Int? = nil,
        iccid: String? = nil, modem: String? = nil, pollInterval: String = "1s", events: String? = nil,
        extraConfiguration: String = "",
        configure: (inout EmulatorServer.Configuration) -> Void = { _ in }
    ) async throws {
        var configuration = EmulatorServer.Configuration(
            tls: .selfSigned, applicationToken: DiagnoseFixture.token, history: 0)
        configure(&configuration)
        emulator = try await TestEmulator.start(configuration)
        _ = await emulator.control.inject(.updateLocation, count: 1)
        _ = await emulator.control.inject(.createPDPContext, count: 1)
        broker = withBroker ? try MosquittoBroker(options: .init(users: [Self.mqttUser: Self.mqttPassword])) : nil
        directory = try TemporaryDirectory(prefix: "emnify-diagnose")
        try FileManager.default.createDirectory(atPath: directory.file("state"), withIntermediateDirectories: true)
        let tokenFile = try directory.write(token + "\n", to: "application-token")
        let passwordFile = try directory.write(Self.mqttPassword + "\n", to: "mqtt-password")
        for file in [tokenFile, passwordFile] {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
        let port = try brokerPort ?? broker?.port ?? MosquittoBroker.freePort()
        let modemSection =
            modem ?? """
                source = "static"
                iccid = "\(iccid ?? emulator.emulator.iccid)"
                """
        configPath = try directory.write(
            """
            [api]
            url = "\(emulator.baseURL)"
            ca_file = "\(emulator.caFile ?? "")"
            token_file = "\(tokenFile)"
            timeout = "5s"
            connect_timeout = "2s"

            [modem]
            \(modemSection)

            [agent]
            state_dir = "\(directory.file("state"))"
            poll_interval = "\(pollInterval)"
            \(events.map { "events = \"\($0)\"" } ?? "")

            [mqtt]
            host = "127.0.0.1"
            port = \(port)
            username = "\(Self.mqttUser)"
            password_file = "\(passwordFile)"
            \(extraConfiguration)
            """, to: "emnify-edge.toml")
    }

    var environment: [String: String] {
        [
            "PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "200",
            // A proxy with credentials that must never be printed; 127.0.0.1 goes direct.
            "https_proxy": "http://puser:\(Self.proxyPassword)@proxy.invalid:3128", "no_proxy": "127.0.0.1,localhost",
        ]
    }

    static var binary: String { BuiltProducts.path(of: "emnify-edge") }

    /// Starts `emnify-edge run` (with this configuration, or another one) and waits until it has
    /// completed a poll and published its health.
    func startAgent(_ extraArguments: [String] = [], configPath: String? = nil) async throws {
        let agent = try RunningProcess(
            Self.binary, ["run", "--config", configPath ?? self.configPath] + extraArguments, environment: environment)
        self.agent = agent
        let deadline = ContinuousClock.now + .seconds(20)
        let statePath = directory.file("state/state.json")
        while ContinuousClock.now < deadline {
            if let data = FileManager.default.contents(atPath: statePath),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                object["last_successful_poll_ms"] is Int
            {
                try await Task.sleep(for: .milliseconds(300))  // the retained health follows the state
                return
            }
            if agent.exitCode != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("the agent did not complete a poll: \(agent.standardError.suffix(2000))")
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the agent: frozen, it still runs but changes nothing.
    func freezeAgent(_ frozen: Bool) {
        agent?.signal(frozen ? SIGSTOP : SIGCONT)
    }

    /// Stops the agent started by `startAgent`; its state file stays as it left it.
    func stopAgent() async {
        agent?.kill()
        _ = await agent?.wait(timeout: .seconds(5))
        agent = nil
    }

    /// This configuration with `[agent] events` set to `events`, written beside it, or over it
    /// with `replacing` (a running agent reads its file only at start and on SIGHUP).
    @discardableResult
    func configuration(events: String, replacing: Bool = false) throws -> String {
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("events = ") }
        let withEvents = lines.map { $0.hasPrefix("poll_interval = ") ? "\($0)\nevents = \"\(events)\"" : String($0) }
        let name = replacing ? "emnify-edge.toml" : "emnify-edge-\(events).toml"
        return try directory.write(withEvents.joined(separator: "\n"), to: name)
    }

    /// Publishes a retained message on the fixture's broker with `mosquitto_pub`, as the bridge (its
    /// notification) or a relay (its status) leaves one there; returns once the broker has it (QoS 1).
    func publishRetained(_ topic: String, _ payload: String) async throws {
        let port = try #require(broker?.port)
        let result = try await ChildProcess.run(
            "/usr/bin/mosquitto_pub",
            [
                "-h", "127.0.0.1", "-p", String(port), "-u", Self.mqttUser, "-P", Self.mqttPassword, "-q", "1", "-r",
                "-t", topic, "-m", payload,
            ], timeout: .seconds(30))
        #expect(result.exitCode == 0, "mosquitto_pub \(topic): \(result.standardError)")
    }

    func diagnose(_ arguments: [String] = [], timeout: Duration = .seconds(60)) async throws -> ChildProcess.Result {
        try await ChildProcess.run(
            Self.binary, ["diagnose", "--config", configPath] + arguments, environment: environment, timeout: timeout)
    }

    /// `diagnose --json`, parsed; the checks by id.
    func diagnoseJSON(_ arguments: [String] = []) async throws -> (
        ChildProcess.Result, [String: Any], [String: [String: Any]]
    ) {
        let result = try await diagnose(["--json"] + arguments)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
            "stdout: \(result.standardOutput) stderr: \(result.standardError)")
        let checks = try #require(object["checks"] as? [[String: Any]])
        var byID: [String: [String: Any]] = [:]
        for check in checks { byID[check["id"] as? String ?? "?"] = check }
        return (result, object, byID)
    }

    /// Runs `body`, then stops the agent, the broker and the emulator, also when `body` throws (a
    /// `defer { Task { … } }` may not run before the test process exits, leaving brokers behind).
    func using(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    func stop() async {
        agent?.signal(SIGCONT)
        agent?.kill()
        _ = await agent?.wait(timeout: .seconds(5))
        broker?.kill()
        await emulator.stop()
    }

    /// Every secret this fixture planted (the JWTs are added by the tests that collect them).
    static let secrets = ["application token": token, "broker password": mqttPassword, "proxy password": proxyPassword]

    /// No planted secret in any of its encodings (`SecretScan`), and nothing shaped like a JWT
    /// (`eyJ`: base64url of `{"`).
    static func expectNoSecrets(
        _ text: String, _ what: String, extra: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let findings = SecretScan(secrets.merging(extra) { first, _ in first }).findings(in: text, source: what)
        #expect(findings.isEmpty, "\(findings)", sourceLocation: sourceLocation)
        #expect(!text.contains("eyJ"), "\(what) contains a JWT-shaped string", sourceLocation: sourceLocation)
    }
}
