import EdgeCommon
@testable import EmnifyAPI
import Foundation
import Synchronization

/// An in-memory transport for unit tests: answers each request with a closure and records it.
final class ScriptedTransport: HTTPTransport {
    typealias Handler = @Sendable (HTTPRequest, Int) throws(TransportError) -> HTTPResponse
    private let handler: Handler
    private let log = Mutex<[HTTPRequest]>([])

    init(_ handler: @escaping Handler) {
        self.handler = handler
    }

    var requests: [HTTPRequest] { log.withLock { $0 } }
    var paths: [String] { requests.map { URLComponents(string: $0.url)!.path } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let index = log.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
        return try handler(request, index)
    }
}

/// A clock the test moves by hand.
final class ManualClock: WallClock, MonotonicClock {
    private let now = Mutex<Int64>(1_700_000_000_000)

    func nowMilliseconds() -> Int64 { now.withLock { $0 } }
    func monotonicMilliseconds() -> Int64 { now.withLock { $0 } }
    func advance(seconds: Int64) { now.withLock { $0 += seconds * 1000 } }
}

/// Records the delays the client asked for instead of sleeping.
final class RecordingSleeper: Sendable {
    private let delays = Mutex<[Duration]>([])
    var recorded: [Duration] { delays.withLock { $0 } }
    var sleeper: EmnifyClient.Sleeper {
        { duration in self.delays.withLock { $0.append(duration) } }
    }
}

enum TestJWT {
    static func make(issuedAt: Int64, lifetime: Int64, subject: String = "1") -> String {
        func encode(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return encode(#"{"alg":"HS256","typ":"JWT"}"#) + "."
            + encode(#"{"sub":"\#(subject)","iat":\#(issuedAt),"exp":\#(issuedAt + lifetime)}"#) + ".c2lnbmF0dXJl"
    }
}

extension HTTPResponse {
    static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }
}

extension HTTPRequest {
    var path: String { URLComponents(string: url)!.path }
    var queryItems: [String: String] {
        Dictionary(
            uniqueKeysWithValues: (URLComponents(string: url)!.queryItems ?? []).map { ($0.name, $0.value ?? "") })
    }
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
