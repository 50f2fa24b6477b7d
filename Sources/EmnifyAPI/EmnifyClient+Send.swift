import EdgeCommon
import FoundationEssentials
import Logging

extension EmnifyClient {
    /// Sends one API request with the JWT, retrying what can be retried:
    /// - 401: the JWT is dropped and renewed once, then the request is repeated once;
    /// - 429: waits `Retry-After` (or backoff) if that is short, else throws `.rateLimited`;
    /// - 5xx, broken connections, timeouts and bodies that fail `validate`: backoff and retry.
    /// Within `RetryPolicy.maxAttempts` tries in all.
    func send(
        _ method: HTTPRequest.Method, path: String, query: [(String, String)], headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        validate: (HTTPResponse) throws(APIDecodingError) -> Void = { _ throws(APIDecodingError) in }
    ) async throws(EmnifyError) -> HTTPResponse {
        var renewedAfter401 = false
        var attempt = 0
        while true {
            attempt += 1
            let token = try await validToken()
            var request = HTTPRequest(
                method: method, url: url(path, query), headers: headers.map { (name: $0.0, value: $0.1) }, body: body)
            request.headers.append((name: "Authorization", value: "Bearer \(token.jwt)"))
            request.headers.append((name: "Accept", value: "application/json"))

            let failure: EmnifyError
            var waitHint: Duration? = nil
            do {
                let response = try await exchange(request)
                record(response.metrics, authentication: false, failed: !(200..<400).contains(response.status))
                log(method, path, response)
                switch response.status {
                case 200..<300, 304:
                    do {
                        try validate(response)
                        return response
                    } catch {
                        failure = .malformedResponse(path: path, error)
                    }
                case 401:
                    if renewedAfter401 {
                        throw EmnifyError.unauthorized(path: path, message: Self.message(in: response))
                    }
                    renewedAfter401 = true
                    dropToken(reason: "HTTP 401 on \(path)")
                    attempt -= 1  // a renewal is not a failed attempt
                    continue
                case 403:
                    throw EmnifyError.forbidden(path: path, message: Self.message(in: response))
                case 429, 500..<600:
                    (failure, waitHint) = try transientFailure(response, path: path)
                case 400, 404, 405, 409, 422:
                    throw EmnifyError.badRequest(
                        status: response.status, path: path, message: Self.message(in: response))
                default:
                    throw EmnifyError.unexpectedStatus(
                        status: response.status, path: path, snippet: response.bodySnippet)
                }
            } catch {
                failure = try classify(error, path: path, authentication: false)
            }
            try await pause(after: failure, attempt: attempt, wait: waitHint, path: path)
        }
    }

    /// A 429 or 5xx: the error to retry on and how long the server asked to wait. A `Retry-After`
    /// longer than the policy allows ends the call at once (the caller schedules around it).
    func transientFailure(_ response: HTTPResponse, path: String) throws(EmnifyError) -> (EmnifyError, Duration?) {
        let retryAfter = RetryPolicy.retryAfter(response)
        guard response.status == 429 else {
            let wait = retryAfter.flatMap { $0 <= configuration.retry.maxRetryAfter ? $0 : nil }
            return (.serverError(status: response.status, path: path, snippet: response.bodySnippet), wait)
        }
        if let retryAfter, retryAfter > configuration.retry.maxRetryAfter {
            throw .rateLimited(path: path, retryAfter: retryAfter)
        }
        return (.rateLimited(path: path, retryAfter: retryAfter), retryAfter)
    }

    /// What an error thrown while sending means: a transient transport failure to retry on, or
    /// the end of the call (a permanent transport failure, a decided `EmnifyError`, cancellation).
    func classify(_ error: any Error, path: String, authentication: Bool) throws(EmnifyError) -> EmnifyError {
        switch error {
        case let error as TransportError:
            record(nil, authentication: authentication, failed: true)
            logger.debug("request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            guard error.isTransient else { throw .transport(error, path: path) }
            return .transport(error, path: path)
        case let error as EmnifyError:
            throw error
        default:
            throw .cancelled
        }
    }

    /// Waits before try `attempt + 1` (the server's hint or backoff), or throws `failure` when the
    /// policy's tries are used up.
    func pause(after failure: EmnifyError, attempt: Int, wait: Duration?, path: String) async throws(EmnifyError) {
        guard attempt < configuration.retry.maxAttempts else { throw failure }
        let delay = wait ?? configuration.retry.backoff.delay(attempt: attempt)
        logger.info(
            "retrying",
            metadata: [
                "path": "\(path)", "attempt": "\(attempt + 1)", "delay_ms": "\(Int(delay.seconds * 1000))",
                "reason": "\(failure)",
            ])
        do {
            try await sleep(delay)
        } catch {
            throw .cancelled
        }
    }

    func url(_ path: String, _ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return configuration.baseURL + path }
        return configuration.baseURL + path + "?"
            + query.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&")
    }

    /// Query encoding: unreserved characters and the ones emnify's `q` syntax uses (`:`, `,`, `|`)
    /// pass; everything else is percent-encoded.
    static func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"),
                UInt8(ascii: ","):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    /// The `message` of an emnify error body, or a snippet of it.
    static func message(in response: HTTPResponse) -> String {
        struct Body: Decodable { var message: String? }
        if let body = try? JSONDecoder().decode(Body.self, from: Data(response.body)), let message = body.message {
            return message
        }
        return response.bodySnippet
    }

    func record(_ metrics: TransferMetrics?, authentication: Bool, failed: Bool) {
        usage.record(metrics, isAuthentication: authentication, failed: failed, at: clock.nowMilliseconds())
    }

    private func log(_ method: HTTPRequest.Method, _ path: String, _ response: HTTPResponse) {
        // Never the headers: they carry the JWT.
        logger.debug(
            "\(method.rawValue) \(path)",
            metadata: [
                "status": "\(response.status)", "sent": "\(response.metrics.bytesSent)",
                "received": "\(response.metrics.bytesReceived)", "new_connection": "\(response.metrics.newConnection)",
                "ms": "\(Int(response.metrics.total.seconds * 1000))",
            ])
    }
}
