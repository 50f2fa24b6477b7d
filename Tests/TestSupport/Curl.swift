import Foundation

/// HTTP(S) requests in tests through `/usr/bin/curl` (Foundation's URLSession does not reliably
/// honour a custom CA on Linux).
public enum Curl {
    public struct Result: Sendable {
        /// curl's exit code: 0 ok, 7 connection refused, 18 partial file, 28 timeout, 60 TLS verification.
        public let exitCode: Int32
        public let status: Int
        /// Header names in lower case; the last value wins.
        public let headers: [String: String]
        public let body: Data
        public let standardError: String
        /// The protocol of the (last) status line: "1.1" or "2".
        public let httpVersion: String

        public var bodyText: String { String(decoding: body, as: UTF8.self) }

        public func jsonObject() throws -> Any {
            try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        }

        public func jsonArray() throws -> [[String: Any]] {
            guard let array = try jsonObject() as? [[String: Any]] else {
                throw TestSupportError("not a JSON array of objects: \(bodyText.prefix(200))")
            }
            return array
        }
    }

    public static func request(
        _ url: String, method: String = "GET", body: String? = nil, headers: [String] = [], caFile: String? = nil,
        extraArguments: [String] = [], timeout: Duration = .seconds(30)
    ) async throws -> Result {
        let directory = try TemporaryDirectory(prefix: "curl")
        let headerFile = directory.file("headers")
        let bodyFile = directory.file("body")
        var arguments = ["-sS", "-X", method, "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}"]
        if let caFile { arguments += ["--cacert", caFile] }
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        arguments += extraArguments
        arguments.append(url)
        let result = try await ChildProcess.run("/usr/bin/curl", arguments, timeout: timeout)
        var parsed: [String: String] = [:]
        var httpVersion = ""
        let headerText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        for line in headerText.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
            if line.hasPrefix("HTTP/") {
                httpVersion = String(line.dropFirst(5).prefix { $0 != " " })
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            parsed[name] = value
        }
        let data = (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))) ?? Data()
        return Result(
            exitCode: result.exitCode, status: Int(result.standardOutput.trimmingCharacters(in: .whitespaces)) ?? 0,
            headers: parsed, body: data, standardError: result.standardError, httpVersion: httpVersion)
    }
}
