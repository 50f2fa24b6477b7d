import Hummingbird
import NIOCore

extension Request {
    /// The body, collected once by `EmulatorResponder` before any route or middleware runs.
    func collectedBody() async throws -> ByteBuffer {
        try await body.collect(upTo: EmulatorResponder.maxBodySize)
    }

    /// The query parameters by name (the last one wins for a repeated name).
    var queryDictionary: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in uri.queryParameters { result[String(key)] = String(value) }
        return result
    }
}
