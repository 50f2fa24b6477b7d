import CMosquitto
import Glibc

/// libmosquitto's texts for its codes.
enum MosquittoText {
    static func error(_ code: Int32) -> String {
        if code == MOSQ_ERR_ERRNO.rawValue { return String(cString: strerror(errno)) }
        return String(cString: mosquitto_strerror(code))
    }

    static func reason(_ code: Int) -> String { String(cString: mosquitto_reason_string(Int32(code))) }

    static func connack(_ code: Int) -> String { String(cString: mosquitto_connack_string(Int32(code))) }
}
