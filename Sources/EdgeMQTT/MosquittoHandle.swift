import EdgeCommon
import CMosquitto
import Glibc

/// Owns one `struct mosquitto *` and the typed calls made on it.
///
/// `@unchecked Sendable`: the stored properties are immutable (a pointer and a reference to a `Sendable` core).
/// libmosquitto built with thread support (Debian's is) guards the struct behind the pointer with its own mutexes,
/// so the calls below may come from any thread while its network thread runs. The struct is destroyed only in
/// `deinit`, after the network thread has been stopped, so no callback can outlive it.
final class MosquittoHandle: @unchecked Sendable {
    let mosq: OpaquePointer
    /// Kept alive as long as libmosquitto may call back with its address as userdata.
    let core: MQTTClientCore

    init(settings: MQTTSettings, core: MQTTClientCore) throws(MQTTError) {
        MosquittoLibrary.ensureInitialised()
        self.core = core
        let userdata = Unmanaged.passUnretained(core).toOpaque()
        guard let mosq = mosquitto_new(settings.clientID, settings.cleanSession, userdata) else {
            throw .library(call: "mosquitto_new", code: Int(errno), message: String(cString: strerror(errno)))
        }
        self.mosq = mosq
        MosquittoCallbacks.install(on: mosq)
    }

    deinit {
        halt()
        mosquitto_destroy(mosq)
    }

    /// Ends the connection with DISCONNECT (the will is not sent) and joins the network thread.
    /// Never call it from a libmosquitto callback (it would join its own thread).
    func halt() {
        mosquitto_disconnect(mosq)
        mosquitto_loop_stop(mosq, false)
    }

    func check(_ rc: Int32, _ call: String) throws(MQTTError) {
        guard rc != MOSQ_ERR_SUCCESS.rawValue else { return }
        throw .library(call: call, code: Int(rc), message: MosquittoText.error(rc))
    }

    /// Everything set once, before the first connect (protocol and will are set per attempt).
    func configure(_ settings: MQTTSettings) throws(MQTTError) {
        if let username = settings.username {
            // The password goes to libmosquitto only; it never appears in a log line or error.
            try check(mosquitto_username_pw_set(mosq, username, settings.password), "mosquitto_username_pw_set")
        }
        if let tls = settings.tls {
            let rc = mosquitto_tls_set(mosq, tls.caFile, nil, tls.certFile, tls.keyFile, nil)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                let files = "ca: \(tls.caFile), cert: \(tls.certFile ?? "-"), key: \(tls.keyFile ?? "-")"
                throw .tls("mosquitto_tls_set(\(files)): \(MosquittoText.error(rc))")
            }
            try check(mosquitto_tls_insecure_set(mosq, false), "mosquitto_tls_insecure_set")
        }
        try check(
            mosquitto_reconnect_delay_set(
                mosq, UInt32(settings.reconnectDelay.min.wholeSeconds),
                UInt32(settings.reconnectDelay.max.wholeSeconds),
                true),
            "mosquitto_reconnect_delay_set")
        try check(
            mosquitto_max_inflight_messages_set(mosq, UInt32(settings.maxInflight)),
            "mosquitto_max_inflight_messages_set")
        try check(
            mosquitto_int_option(mosq, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(settings.maxInflight)),
            "MOSQ_OPT_RECEIVE_MAXIMUM")
        try check(mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1), "MOSQ_OPT_TCP_NODELAY")
    }

    /// Protocol level for the next connect, its CONNECT properties, and the will in the form that level accepts.
    func prepare(protocolVersion: Int, will: MQTTMessage?, sessionExpiry: Duration?) throws(MQTTError) {
        try check(
            mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, Int32(protocolVersion)), "MOSQ_OPT_PROTOCOL_VERSION")
        try setConnectProperties(sessionExpiry: protocolVersion == 5 ? sessionExpiry : nil)
        guard let will else { return }
        var properties = try MosquittoProperties.make(protocolVersion == 5 ? will.properties : nil)
        let rc = will.payload.withUnsafeBytes { bytes in
            mosquitto_will_set_v5(
                mosq, will.topic, Int32(bytes.count), bytes.baseAddress, Int32(will.qos), will.retain, properties)
        }
        // On success libmosquitto owns the list; on error it is ours to free.
        if rc != MOSQ_ERR_SUCCESS.rawValue { mosquitto_property_free_all(&properties) }
        try check(rc, "mosquitto_will_set_v5")
    }

    /// MQTT 5 ends a session at the disconnect unless CONNECT carries a Session Expiry Interval. libmosquitto 2.0
    /// keeps CONNECT properties (for every reconnect too) only through the blocking `mosquitto_connect_bind_v5`,
    /// which stores them before it validates its arguments: called with port -1 it stores them, returns
    /// MOSQ_ERR_INVAL and touches no socket. nil clears them (3.1.1 refuses a connect that has properties).
    private func setConnectProperties(sessionExpiry: Duration?) throws(MQTTError) {
        var list: OpaquePointer? = nil
        defer { mosquitto_property_free_all(&list) }
        if let sessionExpiry {
            let seconds = UInt32(clamping: sessionExpiry.wholeSeconds)
            try check(
                mosquitto_property_add_int32(&list, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), seconds),
                "mosquitto_property_add_int32")
        }
        let rc = mosquitto_connect_bind_v5(mosq, "", -1, 0, nil, list)
        guard rc == MOSQ_ERR_INVAL.rawValue else {
            throw .library(
                call: "mosquitto_connect_bind_v5 (setting the CONNECT properties)", code: Int(rc),
                message: MosquittoText.error(rc))
        }
    }

    /// Starts the asynchronous connect; the result of the TCP connect attempt (the network thread retries).
    func connectAsync(_ settings: MQTTSettings) -> Int32 {
        mosquitto_connect_bind_async(
            mosq, settings.host, Int32(settings.port), Int32(settings.keepalive.wholeSeconds), nil)
    }

    func loopStart() -> Int32 { mosquitto_loop_start(mosq) }

    /// `mosquitto_publish_v5`; the message id is set before the packet can reach the network thread.
    func publish(_ message: MQTTMessage, protocolVersion: Int, mid: inout Int32) -> Int32 {
        var properties: OpaquePointer? = nil
        defer { mosquitto_property_free_all(&properties) }
        if protocolVersion == 5 {
            do { properties = try MosquittoProperties.make(message.properties) } catch {
                return MOSQ_ERR_INVAL.rawValue
            }
        }
        return message.payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(
                mosq, &mid, message.topic, Int32(bytes.count), bytes.baseAddress, Int32(message.qos), message.retain,
                properties)
        }
    }

    func subscribe(_ filter: String, qos: Int, mid: inout Int32) -> Int32 {
        mosquitto_subscribe_v5(mosq, &mid, filter, Int32(qos), 0, nil)
    }

    func socket() -> Int32 { mosquitto_socket(mosq) }
}

/// Building libmosquitto property lists.
enum MosquittoProperties {
    /// A new list (nil when there is nothing to send); the caller frees it or hands it over.
    static func make(_ properties: MQTTProperties?) throws(MQTTError) -> OpaquePointer? {
        guard let properties, !properties.isEmpty else { return nil }
        var list: OpaquePointer? = nil
        var rc = MOSQ_ERR_SUCCESS.rawValue
        if let contentType = properties.contentType {
            rc = mosquitto_property_add_string(&list, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), contentType)
        }
        for (name, value) in properties.userProperties where rc == MOSQ_ERR_SUCCESS.rawValue {
            rc = mosquitto_property_add_string_pair(&list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), name, value)
        }
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            mosquitto_property_free_all(&list)
            throw .library(call: "mosquitto_property_add", code: Int(rc), message: MosquittoText.error(rc))
        }
        return list
    }

    /// Copies content type and user properties out of a received list (libmosquitto frees the list afterwards).
    static func read(_ list: OpaquePointer?) -> MQTTProperties? {
        guard let list else { return nil }
        var result = MQTTProperties()
        var value: UnsafeMutablePointer<CChar>? = nil
        if mosquitto_property_read_string(list, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), &value, false) != nil,
            let value
        {
            result.contentType = String(cString: value)
            free(value)
        }
        var cursor: OpaquePointer? = list
        var skipFirst = false
        while let current = cursor {
            var name: UnsafeMutablePointer<CChar>? = nil
            var pairValue: UnsafeMutablePointer<CChar>? = nil
            guard
                let found = mosquitto_property_read_string_pair(
                    current, Int32(MQTT_PROP_USER_PROPERTY.rawValue), &name, &pairValue, skipFirst)
            else { break }
            if let name, let pairValue {
                result.userProperties.append((String(cString: name), String(cString: pairValue)))
            }
            free(name)
            free(pairValue)
            cursor = found
            skipFirst = true
        }
        return result.isEmpty ? nil : result
    }
}
