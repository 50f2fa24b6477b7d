import EdgeCommon
import CMosquitto
import Logging

/// libmosquitto's callbacks: non-capturing `@convention(c)` trampolines that find the Swift object through the
/// userdata pointer given to `mosquitto_new` (an unretained `MQTTClientCore`, kept alive by `MosquittoHandle`).
/// They run on libmosquitto's network thread; everything they pass on is copied first, because libmosquitto frees
/// messages and property lists when the callback returns.
enum MosquittoCallbacks {
    static func install(on mosq: OpaquePointer) {
        mosquitto_connect_v5_callback_set(mosq, onConnect)
        mosquitto_disconnect_v5_callback_set(mosq, onDisconnect)
        mosquitto_publish_v5_callback_set(mosq, onPublish)
        mosquitto_message_v5_callback_set(mosq, onMessage)
        mosquitto_subscribe_v5_callback_set(mosq, onSubscribe)
        mosquitto_log_callback_set(mosq, onLog)
    }

    private static func core(_ userdata: UnsafeMutableRawPointer?) -> MQTTClientCore? {
        guard let userdata else { return nil }
        return Unmanaged<MQTTClientCore>.fromOpaque(userdata).takeUnretainedValue()
    }

    private static let onConnect:
        @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, OpaquePointer?) -> Void = {
            mosq, userdata, code, flags, _ in
            guard let mosq else { return }
            core(userdata)?.handleConnect(mosq: mosq, code: Int(code), flags: Int(flags))
        }

    private static let onDisconnect:
        @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?) -> Void = {
            _, userdata, code, _ in
            core(userdata)?.handleDisconnect(code: Int(code))
        }

    private static let onPublish:
        @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, OpaquePointer?) -> Void = {
            _, userdata, mid, reason, _ in
            core(userdata)?.handleAck(mid: mid, reason: Int(reason))
        }

    private static let onMessage:
        @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<mosquitto_message>?, OpaquePointer?)
            -> Void = { _, userdata, message, properties in
                guard let message, let core = core(userdata) else { return }
                let raw = message.pointee
                let payload: [UInt8] =
                    raw.payloadlen > 0 && raw.payload != nil
                    ? Array(UnsafeRawBufferPointer(start: raw.payload, count: Int(raw.payloadlen))) : []
                let copied = MQTTMessage(
                    topic: String(cString: raw.topic), payload: payload, qos: Int(raw.qos), retain: raw.retain,
                    properties: MosquittoProperties.read(properties))
                core.handleMessage(copied)
            }

    /// libmosquitto's own log lines (they name packets and TLS errors, never the password).
    private static let onLog:
        @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = {
            _, userdata, level, text in
            guard let text, let core = core(userdata) else { return }
            let isError = level & Int32(MOSQ_LOG_ERR) != 0
            guard isError || core.logger.logLevel <= .trace else { return }
            core.handleLog(String(cString: text), isError: isError)
        }

    private static let onSubscribe:
        @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, UnsafePointer<Int32>?, OpaquePointer?)
            -> Void = { _, userdata, mid, count, granted, _ in
                let qos: [Int] =
                    if let granted, count > 0 {
                        UnsafeBufferPointer(start: granted, count: Int(count)).map { Int($0) }
                    } else { [] }
                core(userdata)?.handleSuback(mid: mid, granted: qos)
            }
}
