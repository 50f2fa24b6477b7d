import EdgeCommon
/// Which MQTT protocol version to speak.
public enum MQTTProtocolChoice: Sendable, Hashable {
    /// MQTT 5 first; if the broker refuses the protocol version, MQTT 3.1.1.
    case auto
    /// MQTT 5 only.
    case v5
    /// MQTT 3.1.1 only (no properties).
    case v311
}

/// TLS to the broker. Certificate verification is always on (`mosquitto_tls_set`; never `tls_insecure`).
public struct MQTTTLSSettings: Sendable, Hashable {
    /// PEM file of the certificate authorities that signed the broker's certificate.
    public var caFile: String
    /// Client certificate and key (PEM), for brokers that ask for one.
    public var certFile: String?
    public var keyFile: String?

    public init(caFile: String, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

/// Everything `MQTTConnection` needs to reach the broker.
public struct MQTTSettings: Sendable {
    public var host: String
    public var port: Int
    public var clientID: String
    public var username: String?
    /// Never logged, never part of an error message.
    public var password: String?
    public var tls: MQTTTLSSettings?
    /// Non-zero; libmosquitto takes whole seconds (at least 5 is sensible).
    public var keepalive: Duration
    public var protocolVersion: MQTTProtocolChoice
    /// Last Will: the broker publishes it when the connection ends without DISCONNECT.
    public var will: MQTTMessage?
    /// Reconnect backoff: starts at `min`, doubles up to `max` (libmosquitto's exponential backoff; whole seconds).
    public var reconnectDelay: (min: Duration, max: Duration)
    /// false keeps the broker-side session (subscriptions, queued QoS 1 messages) across reconnects.
    public var cleanSession: Bool
    /// With MQTT 5 and `cleanSession` false, how long the broker keeps the session after a disconnect (CONNECT's
    /// Session Expiry Interval; without it the session would end at the disconnect). 3.1.1 has no such limit
    /// (the broker's own, `persistent_client_expiration` in mosquitto). Whole seconds.
    public var sessionExpiry: Duration = .seconds(86_400)
    /// How many QoS 1 publishes may await PUBACK at once (`mosquitto_max_inflight_messages_set`; with MQTT 5 the
    /// broker's receive maximum may lower it). Also sent as our receive maximum. 1...65535.
    public var maxInflight: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 1883,
        clientID: String,
        username: String? = nil,
        password: String? = nil,
        tls: MQTTTLSSettings? = nil,
        keepalive: Duration = .seconds(30),
        protocolVersion: MQTTProtocolChoice = .auto,
        will: MQTTMessage? = nil,
        reconnectDelay: (min: Duration, max: Duration) = (.seconds(1), .seconds(30)),
        cleanSession: Bool = true,
        maxInflight: Int = 1000
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.tls = tls
        self.keepalive = keepalive
        self.protocolVersion = protocolVersion
        self.will = will
        self.reconnectDelay = reconnectDelay
        self.cleanSession = cleanSession
        self.maxInflight = maxInflight
    }
}

extension MQTTSettings {
    /// Checks what libmosquitto would reject later with a less helpful code.
    func validated() throws(MQTTError) {
        func invalid(_ text: String) -> MQTTError { .invalidSettings(text) }
        if host.isEmpty { throw invalid("[mqtt] host is empty") }
        if !(1...65535).contains(port) { throw invalid("[mqtt] port \(port) is not in 1...65535") }
        if clientID.isEmpty || clientID.utf8.count > 65535 { throw invalid("[mqtt] client_id must be 1...65535 bytes") }
        if keepalive.wholeSeconds < 1 || keepalive.wholeSeconds > 65535 {
            throw invalid("[mqtt] keepalive must be between 1s and 65535s (it is non-zero so a dead link is noticed)")
        }
        if reconnectDelay.min.wholeSeconds < 1 || reconnectDelay.max < reconnectDelay.min {
            throw invalid("reconnect delay must be at least 1s and min <= max")
        }
        if !(1...65535).contains(maxInflight) { throw invalid("max inflight must be in 1...65535") }
        if password != nil && username == nil { throw invalid("[mqtt] a password needs a username") }
        if let tls, (tls.certFile == nil) != (tls.keyFile == nil) {
            throw invalid("[mqtt] TLS client certificate and key go together: set both or neither")
        }
        if let will {
            if let problem = TopicValidation.problem(inPublishTopic: will.topic) {
                throw invalid("Last Will topic \"\(will.topic)\": \(problem)")
            }
        }
    }
}

extension Duration {
    /// Whole seconds, rounded up, for libmosquitto's integer-second parameters.
    var wholeSeconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }
}
