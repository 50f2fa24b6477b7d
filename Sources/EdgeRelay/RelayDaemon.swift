import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EdgeRuntime
import EmnifyAPI
import FoundationEssentials
import Logging
import ServiceLifecycle
import UnixSignals

/// `emnify-edge relay` as a service: validates `relay.toml`, connects to the cluster (retrying
/// until a node answers: the relay is useless without one, and systemd should not see a crash
/// loop while the cluster restarts), runs the relay, and publishes `offline` at the end. Under
/// systemd (Type=notify) it reports READY once the webhook listens, and pings the watchdog while
/// connected to a node.
public struct RelayDaemon: Service {
    /// relay.toml as `config check --relay` accepts it, with the secrets it names (read once, at start).
    public struct Validated: Sendable {
        public let configuration: EdgeConfiguration
        let token: Secret
        let webhookToken: Secret
        let mqttPassword: Secret?

        /// Or every problem, one per line (`config check`'s words).
        public init(path: String, environment: [String: String]) throws {
            let check = ConfigurationCheck.run(path: path, environment: environment, role: .relay)
            guard check.isValid, let configuration = check.configuration, case .success(let token)? = check.token,
                case .success(let webhookToken)? = check.webhookToken
            else {
                throw CommandFailure(check.problems.joined(separator: "\n"))
            }
            self.configuration = configuration
            self.token = token
            self.webhookToken = webhookToken
            self.mqttPassword = (try? check.mqttPassword?.get()) ?? nil
        }
    }

    let validated: Validated
    let environment: [String: String]
    let logger: Logger

    public init(_ validated: Validated, environment: [String: String], logger: Logger) {
        self.validated = validated
        self.environment = environment
        self.logger = logger
    }

    public func run() async throws {
        let (configuration, token, webhookToken, password) = (
            validated.configuration, validated.token, validated.webhookToken, validated.mqttPassword
        )
        for secret in [token, webhookToken] + (password.map { [$0] } ?? []) {
            if let finding = secret.permissionFinding { logger.warning("\(finding)") }
        }
        let settings = Relay.Settings.configured(configuration)
        StateDirectory.prepare(settings.stateDirectory, logger: logger)
        let api = try EmnifyClient.configured(
            configuration.api, stateDirectory: settings.stateDirectory, token: token,
            userAgent: "emnify-edge-relay/\(EdgeVersion.current)",
            retry: RetryPolicy(maxAttempts: 3, maxRetryAfter: .seconds(30)))
        let mqtt = MQTTSettings.relayConfigured(configuration, password: password, topics: settings.topics)
        let cluster = try await ClusterConnector.connect(
            mqtt, nodes: configuration.mqtt.brokers.map { ($0.host, $0.port) }, logger: logger)
        let notifier = SystemdNotifier(environment: environment)
        let relay = Relay(
            settings: settings, api: api, cluster: cluster, webhookSecret: Array(webhookToken.value.utf8),
            logger: logger, clock: { SystemWallClock().nowMilliseconds() },
            onListening: { [logger] port in
                logger.notice(
                    "webhook listening",
                    metadata: [
                        "address": "\(settings.webhook.host):\(port)", "path": "\(settings.webhook.path)",
                        "https": "\(settings.webhook.tls != nil)",
                    ])
                notifier.ready(status: "relay \(settings.topics.relayID): webhook on port \(port)")
            })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            group.addTask { [logger] in
                // SIGHUP would end the process (its default action); a reload is a restart for the relay.
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    logger.notice(
                        "SIGHUP ignored: a changed relay.toml takes a restart (systemctl restart emnify-edge-relay), which loses nothing"
                    )
                }
            }
            if let interval = notifier.watchdogInterval {
                group.addTask {
                    while !Task.isCancelled {
                        if cluster.isConnected { notifier.watchdog() }
                        try await Task.sleep(for: interval / 2)
                    }
                }
            }
            _ = try await group.next()
            group.cancelAll()
        }
        notifier.stopping()
        await relay.shutdown()
        await cluster.stop(timeout: .seconds(5))
    }
}
