/// Why a broker refused the connection (CONNACK reason), in words a user can act on.
public enum MQTTConnectRefusal: Sendable, Hashable {
    case unsupportedProtocolVersion
    case identifierRejected
    case serverUnavailable
    case badCredentials
    case notAuthorized
    case other(code: Int, text: String)

    /// From the CONNACK code libmosquitto reports (3.1.1 return code, or MQTT 5 reason code).
    init(code: Int, protocolVersion: Int) {
        switch (code, protocolVersion) {
        case (1, 3), (1, 4), (132, _): self = .unsupportedProtocolVersion
        case (2, 3), (2, 4), (133, _): self = .identifierRejected
        case (3, 3), (3, 4), (136, _), (137, _): self = .serverUnavailable
        case (4, 3), (4, 4), (134, _), (140, _): self = .badCredentials
        case (5, 3), (5, 4), (135, _): self = .notAuthorized
        default: self = .other(code: code, text: MosquittoText.reason(code))
        }
    }
}

/// What went wrong in the MQTT module, and what to do about it.
public enum MQTTError: Error, CustomStringConvertible, Sendable {
    case invalidSettings(String)
    /// No CONNACK within the start timeout.
    case brokerUnreachable(host: String, port: Int, detail: String)
    case connectionRefused(host: String, port: Int, MQTTConnectRefusal)
    case tls(String)
    case publishFailed(topic: String, detail: String)
    case subscribeFailed(filter: String, detail: String)
    /// QoS 0 while the connection is down, or a subscribe while disconnected.
    case notConnected
    case cancelled
    /// `stop` was called (or the connection was never started).
    case stopped
    /// Another libmosquitto call failed.
    case library(call: String, code: Int, message: String)

    public var description: String {
        switch self {
        case .invalidSettings(let text):
            return "MQTT settings are invalid: \(text). Fix the [mqtt] section of the configuration."
        case .brokerUnreachable(let host, let port, let detail):
            return "MQTT broker at \(host):\(port) did not accept a connection (\(detail)). "
                + "Is mosquitto running? systemctl status mosquitto; check [mqtt] host and port."
        case .connectionRefused(let host, let port, let refusal):
            let what: String
            switch refusal {
            case .badCredentials:
                what = "bad username or password. Check [mqtt] username and password_file"
            case .notAuthorized:
                what = "not authorized. Check [mqtt] username/password_file and the broker's ACL / allow_anonymous"
            case .unsupportedProtocolVersion:
                what = "the broker does not speak this MQTT version. Set [mqtt] protocol to auto or 3.1.1"
            case .identifierRejected:
                what = "client identifier rejected. Check [mqtt] client_id (unique, accepted by the broker)"
            case .serverUnavailable:
                what = "server unavailable. Check the broker's log: journalctl -u mosquitto"
            case .other(let code, let text):
                what = "\(text) (reason code \(code)). Check the broker's log: journalctl -u mosquitto"
            }
            return "MQTT broker at \(host):\(port) refused the connection: \(what)."
        case .tls(let text):
            return "MQTT TLS failed: \(text). Check the [mqtt] TLS CA file, certificate and key (readable PEM files)."
        case .publishFailed(let topic, let detail):
            return "MQTT publish to \"\(topic)\" failed: \(detail)."
        case .subscribeFailed(let filter, let detail):
            return "MQTT subscribe to \"\(filter)\" failed: \(detail)."
        case .notConnected:
            return "MQTT is not connected to the broker; retry once it reconnects."
        case .cancelled:
            return "MQTT operation cancelled (a QoS 1 message already handed to libmosquitto may still be delivered)."
        case .stopped:
            return "MQTT connection is stopped (or was never started)."
        case .library(let call, let code, let message):
            return "libmosquitto \(call) failed: \(message) (\(code))."
        }
    }
}
