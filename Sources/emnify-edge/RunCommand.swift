import ArgumentParser
import EdgeConfig
import EdgeRuntime
import Logging
#if canImport(Glibc)
    import Glibc
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: publish every emnify event of this gateway to the local MQTT broker.",
        discussion: """
            Runs until SIGTERM or SIGINT (in-flight publishes finish, state is saved, 'offline' is \
            published). SIGHUP reloads the configuration; a new one with problems is refused (logged with file and \
            line, and shown on the health topic) and the agent keeps running on the previous one. Under systemd \
            (Type=notify) it reports READY after the first connection to the broker, pings the watchdog while \
            polling works, and shows the last poll in STATUS.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // The first instruction: from here on SIGTERM, SIGINT and SIGHUP are the daemon's to handle.
        // Their default action ends the process (a SIGHUP while the broker was not there yet killed it
        // with exit 129, nothing logged).
        let events = DaemonEvents(signals: [SIGTERM, SIGINT, SIGHUP])
        let options = global
        let environment = CommandContext.environment
        try await reportingFailures {
            try await Daemon(events: events, notifier: SystemdNotifier(environment: environment)) {
                let parts = try ConfiguredParts.validated(path: options.config, environment: environment)
                LoggingBootstrap.once(level: options.verbose ? .debug : Logger.Level(parts.configuration.log.level))
                return try SessionParts.configured(parts)
            }.run()
        }
    }
}
