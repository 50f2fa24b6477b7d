import EdgeAgent
import Logging
#if canImport(Glibc)
    import Glibc
#endif

/// `emnify-edge run` as a state machine over `DaemonEvents`: start a session (reading the modem,
/// connecting to the broker, which can take long), run it, and on SIGHUP validate the new
/// configuration *before* touching the running session: a configuration with problems is refused,
/// logged with file and line and put on the health topic, and the agent keeps running on the
/// previous one. SIGTERM and SIGINT stop it in every phase.
public struct Daemon: Sendable {
    /// Makes the parts of a session from the configuration as it is now on disk; throws a
    /// `CommandFailure` with every problem, one per line, when the configuration is refused.
    let load: @Sendable () throws -> SessionParts
    let events: DaemonEvents
    let notifier: SystemdNotifier
    let logger = Logger(label: "emnify-edge")

    public init(
        events: DaemonEvents, notifier: SystemdNotifier, load: @escaping @Sendable () throws -> SessionParts
    ) {
        self.load = load
        self.events = events
        self.notifier = notifier
    }

    private enum Next {
        case run(AgentSession)
        case reload(SessionParts)
        case stop
        case identityChanged(String)
    }

    public func run() async throws {
        var iterator = events.makeIterator()
        var parts = try load()
        var generation = 0
        while true {
            generation += 1
            StateDirectory.prepare(parts.settings.stateDirectory, logger: logger)
            var next = try await start(parts, generation: generation, &iterator)
            if case .run(let session) = next {
                next = await running(session, generation: generation, &iterator)
            }
            switch next {
            case .reload(let reloaded):
                parts = reloaded
            case .stop, .run:
                notifier.stopping()
                return
            case .identityChanged(let reason):
                // systemd restarts the service, which connects with the new SIM's Last Will.
                throw CommandFailure(reason)
            }
        }
    }

    /// Starts a session; a signal meanwhile cancels the start (SIGHUP only with a valid new configuration).
    private func start(
        _ parts: SessionParts, generation: Int, _ iterator: inout AsyncStream<DaemonEvent>.Iterator
    ) async throws -> Next {
        let events = self.events
        let notifier = self.notifier
        let logger = self.logger
        let startup = Task {
            let result: Result<AgentSession, any Error>
            do {
                result = .success(try await AgentSession.start(parts, notifier: notifier, logger: logger))
            } catch {
                result = .failure(error)
            }
            events.post(.started(generation: generation, result))
        }
        // Set when a signal cancelled the start: what to do once it has ended.
        var instead: Next?
        while let event = await iterator.next() {
            switch event {
            case .signal(SIGHUP):
                logger.notice("SIGHUP while starting: reloading the configuration")
                if case .stop? = instead { continue }
                if let reloaded = await reload(agent: nil) {
                    instead = .reload(reloaded)
                    startup.cancel()
                }
            case .signal(let number):
                logger.notice("signal \(number) while starting: stopping")
                instead = .stop
                startup.cancel()
            case .started(generation, let result):
                switch (result, instead) {
                case (.success(let session), nil): return .run(session)
                case (.success(let session), let instead?):
                    await session.shutDown()
                    return instead
                case (.failure, let instead?): return instead
                case (.failure(let error), nil): throw error
                }
            case .started, .loopEnded:
                continue  // from an earlier generation
            }
        }
        return .stop
    }

    private func running(
        _ session: AgentSession, generation: Int, _ iterator: inout AsyncStream<DaemonEvent>.Iterator
    ) async -> Next {
        let events = self.events
        session.begin { reason in events.post(.loopEnded(generation: generation, reason: reason)) }
        while let event = await iterator.next() {
            switch event {
            case .signal(SIGHUP):
                notifier.reloading()
                logger.notice("SIGHUP: reloading the configuration")
                guard let reloaded = await reload(agent: session.agent) else {
                    notifier.ready(status: "the new configuration has problems; running on the previous one")
                    continue
                }
                await session.end()
                await session.shutDown()
                return .reload(reloaded)
            case .signal:
                notifier.stopping()
                await session.end()
                await session.shutDown()
                return .stop
            case .loopEnded(generation, let reason):
                await session.end()
                await session.shutDown()
                return .identityChanged(reason)
            case .started, .loopEnded:
                continue
            }
        }
        return .stop
    }

    /// The new configuration when it passes the validation of `config check` (token and password
    /// file included); otherwise nil, its problems logged one per line (`file:line: key: message`)
    /// and shown as `last_error` on the health topic.
    private func reload(agent: Agent?) async -> SessionParts? {
        do {
            let reloaded = try load()
            await agent?.reportConfigurationProblem(nil)
            return reloaded
        } catch {
            let problems = "\(error)".split(separator: "\n").map(String.init)
            logger.error("the new configuration is refused; still running on the previous one")
            for problem in problems { logger.error("configuration: \(problem)") }
            await agent?.reportConfigurationProblem(
                "the configuration reload was refused; running on the previous configuration: "
                    + problems.joined(separator: "; "))
            return nil
        }
    }
}
