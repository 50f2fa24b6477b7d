import EdgeCommon
import EdgeMQTT
import Logging

extension MQTTFailoverConnection: RelayCluster {}

/// The first connection to the cluster: the nodes in turn (`MQTTFailoverConnection`) for as long
/// as it takes, since the relay is useless without one and systemd should not see a crash loop
/// while the cluster restarts; cancellation (SIGTERM) ends the wait. A refusal (credentials,
/// protocol, TLS) is not retried: it will not change by itself, and the operator must read it.
enum ClusterConnector {
    static func connect(
        _ settings: MQTTSettings, nodes: [(host: String, port: Int)], logger: Logger
    ) async throws -> MQTTFailoverConnection {
        let backoff = Backoff(base: .seconds(2), factor: 2, cap: .seconds(30))
        var round = 0
        while true {
            try Task.checkCancellation()
            let connection = try MQTTFailoverConnection(hosts: nodes, settings: settings, logger: logger)
            do throws(MQTTError) {
                try await connection.start(timeout: .seconds(60))
                if let node = connection.currentHost {
                    logger.notice("connected to the cluster", metadata: ["node": "\(node.host):\(node.port)"])
                }
                return connection
            } catch {
                switch error {
                case .brokerUnreachable, .notConnected:
                    round += 1
                    logger.warning(
                        "no cluster node answers; trying again",
                        metadata: ["nodes": "\(nodes.map { "\($0.host):\($0.port)" })", "error": "\(error)"])
                    try await Task.sleep(for: backoff.delay(attempt: round))
                default:
                    throw error
                }
            }
        }
    }
}
