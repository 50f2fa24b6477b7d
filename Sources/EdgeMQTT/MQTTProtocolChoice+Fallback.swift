extension MQTTProtocolChoice {
    /// MQTT protocol level (`MQTT_PROTOCOL_V5` = 5, `MQTT_PROTOCOL_V311` = 4) of the first attempt.
    var firstVersion: Int { self == .v311 ? 4 : 5 }

    /// The protocol level to try next after the broker refused `attempted` with CONNACK `code`, or nil when the
    /// refusal stands. Only `.auto` falls back, only from 5 to 3.1.1, and only when the broker said it does not
    /// speak the version: reason code 132 (MQTT 5 "unsupported protocol version"; libmosquitto also maps a
    /// 3.1.1 broker's answer to it) or 3.1.1 return code 1 ("unacceptable protocol version").
    func fallbackVersion(afterRefusalOf attempted: Int, code: Int) -> Int? {
        guard self == .auto, attempted == 5, code == 132 || code == 1 else { return nil }
        return 4
    }
}
