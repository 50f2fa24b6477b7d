/// A misbehaviour the emulator can be told to show, for the next N matching requests or for a
/// while: what the client must survive on a real network and a real service.
public enum Fault: Sendable, Equatable {
    /// `429 Too Many Requests`, with `Retry-After: <seconds>` when given.
    case tooManyRequests(retryAfterSeconds: Int?)
    /// `500` with a JSON error body.
    case internalServerError
    /// `503` with an HTML body, as a load balancer in front of the service sends it.
    case serviceUnavailableHTML
    /// Answer only after `delay` (then normally), or never when nil (the connection stays open
    /// and silent until the client gives up or the emulator stops).
    case stall(delay: Duration?)
    /// `200` declaring a `Content-Length` larger than what is sent, then the connection closes.
    case truncatedBody
    /// `200` with `Content-Type: application/json` and a body that is not valid JSON.
    case malformedJSON
    /// `401` for an otherwise valid token (empty body), as after a revocation.
    case unauthorized
    /// Answer normally, then close the connection once it has been idle for `after`
    /// (a server or middlebox with a shorter keep-alive timeout than the client expects).
    case closeIdleConnection(after: Duration)
    /// An answer given verbatim (no gzip, no emnify shape): for hostile bodies such as a huge
    /// one, invalid UTF-8, deep nesting or ids past 64 bits. See `RawAnswer`.
    case raw(RawAnswer)
    /// `200` with its headers at once, then `byte` every `interval` for ever: a body that
    /// never ends (only the client's timeout or the emulator's stop ends it).
    case trickle(interval: Duration, byte: UInt8)
    /// The normal answer with these headers set (replacing those of the same name), e.g.
    /// paging headers that lie. Names are sent as given.
    case overrideHeaders([String: String])
}

/// A verbatim answer: `prefix`, then `chunk` `repetitions` times, then `suffix`, streamed chunk
/// by chunk so that even a 64 MB body costs the emulator no memory. With `declareLength` the
/// head carries `Content-Length`, without it the body is chunked (the client cannot know the
/// size in advance).
public struct RawAnswer: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var prefix: [UInt8]
    public var chunk: [UInt8]
    public var repetitions: Int
    public var suffix: [UInt8]
    public var declareLength: Bool

    public init(
        status: Int = 200, headers: [String: String] = ["Content-Type": "application/json"], prefix: [UInt8] = [],
        chunk: [UInt8] = [], repetitions: Int = 0, suffix: [UInt8] = [], declareLength: Bool = true
    ) {
        self.status = status
        self.headers = headers
        self.prefix = prefix
        self.chunk = chunk
        self.repetitions = repetitions
        self.suffix = suffix
        self.declareLength = declareLength
    }

    /// One body, sent as it is.
    public init(status: Int = 200, headers: [String: String] = ["Content-Type": "application/json"], body: [UInt8]) {
        self.init(status: status, headers: headers, prefix: body)
    }

    public var bodySize: Int { prefix.count + chunk.count * max(0, repetitions) + suffix.count }
}

/// A fault armed for requests whose path matches `pathPattern` (`*` matches any run of
/// characters; `*` alone matches every API path; control routes are never affected).
public struct FaultRule: Sendable {
    public var fault: Fault
    public var pathPattern: String
    /// How many more matching requests get the fault; nil = unlimited (until `expires`).
    public var remaining: Int?
    public var expires: ContinuousClock.Instant?

    /// With neither `count` nor `duration` the fault applies once; with only `duration`, to
    /// every matching request until it expires; with both, whichever ends first.
    public init(_ fault: Fault, path pathPattern: String = "*", count: Int? = nil, duration: Duration? = nil) {
        self.fault = fault
        self.pathPattern = pathPattern
        self.remaining = count ?? (duration == nil ? 1 : nil)
        self.expires = duration.map { ContinuousClock.now + $0 }
    }

    func matches(path: String, now: ContinuousClock.Instant) -> Bool {
        if let expires, now >= expires { return false }
        if let remaining, remaining <= 0 { return false }
        return FaultRule.glob(Array(pathPattern.utf8)[...], Array(path.utf8)[...])
    }

    var isSpent: Bool {
        if let remaining, remaining <= 0 { return true }
        if let expires, ContinuousClock.now >= expires { return true }
        return false
    }

    static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        if first == UInt8(ascii: "*") {
            let rest = pattern.dropFirst()
            var candidate = text
            while true {
                if glob(rest, candidate) { return true }
                if candidate.isEmpty { return false }
                candidate = candidate.dropFirst()
            }
        }
        guard let head = text.first, head == first else { return false }
        return glob(pattern.dropFirst(), text.dropFirst())
    }
}
