import EdgeCommon
import EdgeMQTT
import Logging

/// The first connection to the cluster: each node in turn until one accepts, for as long as it
/// takes (cancellation ends it). A refusal (credentials, protocol) is not retried: it will not
/// change by itself, and the operator must read it.
enum ClusterConnector {
    static func connect(
        _ settings: MQTTSettings, nodes: [(host: String, port: Int)], logger: Logger
    ) async throws -> MQTTConnection {
        var round = 0
        while true {
            for node in nodes {
                try Task.checkCancellation()
                var attempt = settings
                attempt.host = node.host
                attempt.port = node.port
                let connection = try MQTTConnection(settings: attempt, logger: logger)
                do throws(MQTTError) {
                    try await connection.start(timeout: .seconds(10))
                    logger.notice("connected to the cluster", metadata: ["node": "\(node.host):\(node.port)"])
                    return connection
                } catch {
                    if case .connectionRefused = error { throw error }
                    logger.warning(
                        "cluster node not reachable; trying the next", metadata: ["node": "\(node.host):\(node.port)", "error": "\(error)"])
                }
            }
            round += 1
            try await Task.sleep(for: .seconds(min(30, 2 * round)))
        }
    }
}
