import ArgumentParser
import EdgeAgent
import EdgeCommon
import EdgeMQTT
import EmnifyAPI
import FoundationEssentials
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
            published). SIGHUP reloads the configuration. Under systemd (Type=notify) it reports READY after \
            the first connection to the broker, pings the watchdog while polling works, and shows the last poll \
            in STATUS.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reportingFailures {
            let notifier = SystemdNotifier(environment: CommandContext.environment)
            while true {
                let context = try CommandContext(options: global, daemon: true)
                // Starting can wait a long time (a modem still booting, a broker not up yet):
                // SIGTERM must end that wait too.
                let startup = Task { try await AgentSession.start(context: context, notifier: notifier) }
                let startupSignals = Signals.stream([SIGTERM, SIGINT])
                let interrupter = Task {
                    for await _ in startupSignals {
                        startup.cancel()
                        return
                    }
                }
                let session: AgentSession
                do {
                    session = try await startup.value
                    interrupter.cancel()
                } catch {
                    interrupter.cancel()
                    if startup.isCancelled {
                        notifier.stopping()
                        return
                    }
                    throw error
                }
                // A stream per session: a consumed, cancelled stream ends for good.
                let received = await session.run(signals: Signals.stream([SIGTERM, SIGINT, SIGHUP]))
                switch received {
                case .reload:
                    notifier.reloading()
                    context.logger.notice("SIGHUP: reloading the configuration")
                    await session.shutDown()
                    continue
                case .stop:
                    notifier.stopping()
                    await session.shutDown()
                    return
                case .identityChanged(let reason):
                    await session.shutDown()
                    // EX_TEMPFAIL: systemd restarts the service, which connects with the new SIM's Last Will.
                    throw CommandFailure(reason)
                }
            }
        }
    }
}
