import ArgumentParser
import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeRuntime
import ModemIdentity

#if canImport(Glibc)
    import Glibc
#endif

struct BridgeConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge-config",
        abstract: "Write the local mosquitto's bridge to the fleet's MQTT cluster, for this SIM's ICCID.",
        discussion: """
            For [agent] events = "bridge": fills in the bridge template (firmware-config/mosquitto/\
            emnify-bridge.conf.in, built in) with the cluster's nodes, this SIM's ICCID (read from the modem as \
            'emnify-edge identity' reads it, or --iccid) and [mqtt] topic_prefix. The bridge takes this SIM's \
            events (QoS 1, a persistent session) and the relays' statuses from the cluster, and keeps its own \
            state retained on <prefix>/<iccid>/bridge (1 up, 0 down). On first boot: emnify-edge bridge-config \
            --cluster nats-1.example.net:8883 --cluster nats-2.example.net:8883 --output \
            /etc/mosquitto/conf.d/emnify-bridge.conf && systemctl restart mosquitto. The password is read from \
            --password-file (never from the command line) and is never printed: with one, --output is required.
            """
    )

    @OptionGroup var global: GlobalOptions

    @OptionGroup var modem: ModemOptions

    @Option(
        help: ArgumentHelp(
            "Use this ICCID instead of the modem's (a firmware image built without one).", valueName: "iccid"))
    var iccid: String?

    @Option(
        name: .customLong("cluster"),
        help: ArgumentHelp(
            "A node of the fleet's MQTT cluster; repeat for each, in the order the bridge tries them.",
            valueName: "host:port"))
    var clusters: [String] = []

    @Option(
        help: ArgumentHelp(
            "PEM file of the CA that signed the cluster's certificates (default: the system trust store, "
                + "\(BridgeSnippet.systemTrustStore)).", valueName: "file"))
    var caFile: String?

    @Flag(help: "Connect without TLS: only for a test cluster on this machine (127.0.0.1, ::1, localhost).")
    var noTLS = false

    @Option(help: ArgumentHelp("User name on the cluster.", valueName: "name"))
    var username: String?

    @Option(
        help: ArgumentHelp(
            "File holding the cluster password (mode 0600; never printed, never on the command line).",
            valueName: "file"))
    var passwordFile: String?

    @Option(
        help: ArgumentHelp(
            "Write the snippet to this file (atomically, mode 0640), e.g. /etc/mosquitto/conf.d/emnify-bridge.conf; "
                + "default: print it.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Use this template instead of the built-in one.", valueName: "file"))
    var template: String?

    func run() async throws {
        try await reportingFailures {
            let connection = try self.connection()
            if connection.password != nil && output == nil {
                throw CommandFailure(
                    "the snippet would hold the cluster password, which is never printed: give --output FILE "
                        + "(e.g. /etc/mosquitto/conf.d/emnify-bridge.conf)")
            }
            let templateText = try readTemplate()
            let context = try CommandContext(options: global)
            let layout = TopicLayout(
                prefix: context.configuration.mqtt.topicPrefix, iccid: try await readICCID(context).topicForm)
            let text: String
            do throws(BridgeSnippetError) {
                text = try BridgeSnippet(connection: connection, iccid: layout.iccid, prefix: layout.prefix)
                    .render(template: templateText)
            } catch {
                throw CommandFailure(error.description)
            }
            if context.configuration.agent.events != .bridge {
                printError(
                    "warning: [agent] events is \"\(context.configuration.agent.events.rawValue)\" in "
                        + "\(global.config): the agent does not use the bridge until it is \"bridge\"")
            }
            guard let output else {
                print(text, terminator: "")
                return
            }
            try write(text, to: output)
            let nodes = connection.addresses.map(\.description).joined(separator: ", ")
            print(
                "wrote \(output): the bridge for ICCID \(layout.iccid) to \(nodes); "
                    + "apply it with: systemctl restart mosquitto")
        }
    }

    /// Everything from the arguments alone, checked before the configuration and the modem are read.
    private func connection() throws(CommandFailure) -> BridgeSnippet.Connection {
        let addresses = try clusters.map { text throws(CommandFailure) in
            switch HostAndPort.parse(text) {
            case .success(let address): return address
            case .failure(let error): throw CommandFailure(error.description)
            }
        }
        let transport = try self.transport()
        let password = try readPassword()
        do throws(BridgeSnippetError) {
            return try BridgeSnippet.Connection(
                addresses: addresses, username: username, password: password, transport: transport)
        } catch {
            throw CommandFailure(error.description)
        }
    }

    private func transport() throws(CommandFailure) -> BridgeSnippet.Transport {
        if noTLS {
            guard caFile == nil else { throw CommandFailure("--no-tls and --ca-file exclude each other") }
            return .plain
        }
        guard let caFile else { return .tls(caPath: BridgeSnippet.systemTrustStore) }
        guard caFile.hasPrefix("/") else {
            throw CommandFailure(
                "--ca-file \(caFile): give an absolute path; mosquitto reads it from its own directory")
        }
        let text: String
        do {
            text = try FileReader.readText(caFile, limit: 4 << 20)
        } catch {
            throw CommandFailure("--ca-file: \(error)")
        }
        guard text.contains("-----BEGIN CERTIFICATE-----") else {
            throw CommandFailure("--ca-file \(caFile) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return .tlsWithCAFile(caFile)
    }

    /// The password file's secret: one word, in a file only its owner can read (it ends up in mosquitto.conf).
    private func readPassword() throws(CommandFailure) -> Secret? {
        guard let passwordFile else { return nil }
        let secret: Secret?
        do {
            secret = try SecretFile.read(passwordFile)
        } catch {
            throw CommandFailure("--password-file: \(error)")
        }
        guard let secret else { throw CommandFailure("--password-file \(passwordFile) does not exist") }
        if let finding = secret.permissionFinding {
            throw CommandFailure(
                "--password-file \(passwordFile) has mode \(finding.modeText), so others than its owner can read it; "
                    + "run: chmod 600 \(passwordFile)")
        }
        return secret
    }

    private func readTemplate() throws(CommandFailure) -> String {
        guard let template else { return String(decoding: PackageResources.emnify_bridge_conf_in, as: UTF8.self) }
        do {
            return try FileReader.readText(template, limit: 1 << 20)
        } catch {
            throw CommandFailure("--template: \(error)")
        }
    }

    /// `--iccid`, else the modem's, read as `emnify-edge identity` reads it.
    private func readICCID(_ context: CommandContext) async throws -> ICCID {
        if let iccid {
            do throws(ICCIDError) {
                return try ICCID(parsing: iccid)
            } catch {
                throw CommandFailure("--iccid: \(error)")
            }
        }
        let reader = try modem.reader(context)
        let report: ModemIdentityReport
        do throws(ModemIdentityError) {
            report = try await reader.read()
        } catch {
            throw CommandFailure(
                "cannot read the SIM's identity: \(error.mostRelevant); run 'emnify-edge identity' for details, "
                    + "or give --iccid")
        }
        guard let found = report.iccid else {
            throw CommandFailure(
                "the modem reported no ICCID (source \(report.source.rawValue)); run 'emnify-edge identity' for "
                    + "details, or give --iccid")
        }
        return found
    }

    /// Atomically, mode 0640; as root, group mosquitto where it exists: mosquitto reads conf.d as root at start,
    /// but as its own user when it reloads on SIGHUP.
    private func write(_ text: String, to path: String) throws(CommandFailure) {
        do {
            try AtomicFile.write(text, to: path, mode: 0o640)
        } catch {
            throw CommandFailure("--output: \(error)")
        }
        if geteuid() == 0, let group = getgrnam("mosquitto") {
            if chown(path, uid_t.max, group.pointee.gr_gid) != 0 {
                printError("warning: cannot give \(path) the group mosquitto (\(String(cString: strerror(errno))))")
            }
        }
    }
}
