import EmnifyEmulator
import Foundation

/// An in-process emulator for a test, with a temporary directory that holds its CA file.
///
/// ```swift
/// let test = try await TestEmulator.start()
/// defer { Task { await test.stop() } }   // or `await test.stop()` at the end
/// let result = try await test.curl("/api/v1/event/type", authenticated: true)
/// ```
public final class TestEmulator: Sendable {
    public let emulator: EmulatorServer
    public let directory: TemporaryDirectory
    /// The CA PEM file (nil for plain HTTP).
    public let caFile: String?

    public var baseURL: String { emulator.baseURL }
    public var control: EmulatorControl { emulator.control }

    public static func start(
        _ configuration: EmulatorServer.Configuration = .init(tls: .selfSigned, applicationToken: "test-token")
    )
        async throws -> TestEmulator
    {
        let directory = try TemporaryDirectory(prefix: "emnify-emulator")
        let emulator = try await EmulatorServer.start(configuration)
        var caFile: String?
        if emulator.caCertificatePEM != nil {
            let path = directory.file("emulator-ca.pem")
            try emulator.writeCACertificate(to: path)
            caFile = path
        }
        return TestEmulator(emulator: emulator, directory: directory, caFile: caFile)
    }

    private init(emulator: EmulatorServer, directory: TemporaryDirectory, caFile: String?) {
        self.emulator = emulator
        self.directory = directory
        self.caFile = caFile
    }

    public func stop() async { await emulator.stop() }

    /// A fresh JWT from the emulator (through HTTP, as a client would get it).
    public func authToken() async throws -> String {
        let result = try await curl(
            "/api/v1/authenticate", method: "POST",
            body: #"{"application_token":"\#(emulator.applicationToken)"}"#)
        guard result.status == 200, let object = try result.jsonObject() as? [String: Any],
            let token = object["auth_token"] as? String
        else { throw TestSupportError("authenticate failed: \(result.status) \(result.bodyText)") }
        return token
    }

    /// `curl` against the emulator, trusting its CA. `authenticated` fetches a token first.
    public func curl(
        _ pathAndQuery: String, method: String = "GET", body: String? = nil, headers: [String] = [],
        authenticated: Bool = false, token: String? = nil, extraArguments: [String] = [],
        timeout: Duration = .seconds(30)
    ) async throws -> Curl.Result {
        var headers = headers
        if let token {
            headers.append("Authorization: Bearer \(token)")
        } else if authenticated {
            headers.append("Authorization: Bearer \(try await authToken())")
        }
        return try await Curl.request(
            baseURL + pathAndQuery, method: method, body: body, headers: headers, caFile: caFile,
            extraArguments: extraArguments, timeout: timeout)
    }

    /// A control call (`/_emulator/…`) over HTTP with a JSON body; fails on an answer outside 2xx.
    @discardableResult
    public func controlCall(_ method: String, _ path: String, json: String? = nil) async throws -> Curl.Result {
        let result = try await curl("/_emulator/" + path, method: method, body: json)
        guard (200..<300).contains(result.status) else {
            throw TestSupportError("\(method) /_emulator/\(path): \(result.status) \(result.bodyText)")
        }
        return result
    }

    /// `POST /_emulator/sims {"count":N}`: grows the organisation to `count` SIMs.
    public func growFleet(to count: Int) async throws {
        try await controlCall("POST", "sims", json: #"{"count":\#(count)}"#)
    }

    /// `POST /_emulator/events/generate`: `count` events for these SIM ids in turn (nil: random
    /// SIMs), at once; returns the new ids.
    public func generateEvents(count: Int, simIDs: [Int64]? = nil) async throws -> [Int64] {
        let sims = simIDs.map { "\($0)" } ?? #""random""#
        let result = try await controlCall("POST", "events/generate", json: #"{"count":\#(count),"sims":\#(sims)}"#)
        let object = try result.jsonObject() as? [String: Any]
        return (object?["ids"] as? [NSNumber])?.map(\.int64Value) ?? []
    }

    /// `POST /_emulator/streams` with this JSON (see `DataStreamRequest`); returns the stream id.
    public func createStream(json: String) async throws -> Int {
        let result = try await controlCall("POST", "streams", json: json)
        guard let id = (try result.jsonObject() as? [String: Any])?["id"] as? Int else {
            throw TestSupportError("stream creation answered \(result.bodyText)")
        }
        return id
    }

    /// `GET /_emulator/streams/{id}` decoded.
    public func stream(_ id: Int) async throws -> [String: Any] {
        let result = try await controlCall("GET", "streams/\(id)")
        return try result.jsonObject() as? [String: Any] ?? [:]
    }

    /// Polls the stream's status until `condition` holds (generous deadline; no timing asserted).
    public func waitForStream(
        _ id: Int, timeout: Duration = .seconds(60), until condition: ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await stream(id)
            if condition(status) { return status }
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("stream \(id) did not reach the expected state: \(status)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
