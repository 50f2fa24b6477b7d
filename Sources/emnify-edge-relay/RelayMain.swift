import ArgumentParser
import EdgeConfig
import EdgeRelay
import EdgeRuntime
import FoundationEssentials
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// The fleet relay's executable, started as `emnify-edge relay` (which hands over to it): its own
/// binary so that the gateway's agent does not carry the HTTP server and its TLS stack.
@main
struct RelayMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emnify-edge relay",
        abstract:
            "Run the fleet relay: the organisation's emnify events, taken once, published per SIM on the cluster.",
        discussion: """
            Receives emnify's Data Streamer on its webhook, polls the organisation's events (GET /api/v1/event) \
            to reconcile, and publishes each event on emnify/<iccid>/event/<type> (QoS 1) of the MQTT cluster \
            named in [mqtt] hosts, with the SIM's retained state. The webhook answers 2xx only after the \
            cluster acknowledged every event. Runs until SIGTERM or SIGINT (requests in flight finish, then \
            'offline' is published). See relay.toml(5) and deploy/README.md.
            """
    )

    @Option(help: ArgumentHelp("The relay's configuration file.", valueName: "file"))
    var config = ConfigurationRole.relay.defaultPath

    @Flag(name: .shortAndLong, help: "Log at debug level.")
    var verbose = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let validated: RelayDaemon.Validated
        do {
            validated = try RelayDaemon.Validated(path: config, environment: environment)
        } catch {
            printError("\(error)")
            throw ExitCode(78)  // EX_CONFIG: systemd does not restart into the same broken file.
        }
        let level = verbose ? .debug : Logger.Level(rawValue: validated.configuration.log.level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "emnify-edge.relay")
        let daemon = RelayDaemon(validated, environment: environment, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

func printError(_ message: String) {
    let bytes = Array("emnify-edge relay: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
