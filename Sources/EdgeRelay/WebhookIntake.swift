import EdgeCommon
import EdgeMQTT
import EdgeRuntime
import EmnifyAPI
import FoundationEssentials
import Logging

/// What the Data Streamer's request gets, decided apart from HTTP (the server only carries it):
///
/// | request | answer |
/// |---|---|
/// | no or wrong `Authorization: Bearer <secret>` | 401, nothing published |
/// | body over `max_body_size` | 413 (the server, before reading it all) |
/// | body not JSON (or not UTF-8, or not an object/array) | 400 |
/// | every event acknowledged by the cluster | 200 with counts |
/// | an element that is not an event | written to the dead-letter file, the rest published, 200 |
/// | cluster down, or no acknowledgement within `ack_timeout` | 503 with `Retry-After`: the streamer sends it again |
public struct WebhookIntake: Sendable {
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var body: String
        public var retryAfterSeconds: Int?
    }

    let pipeline: RelayPipeline
    let deadLetters: DeadLetterFile
    let secret: [UInt8]
    let ackTimeout: Duration
    let logger: Logger
    let now: @Sendable () -> Int64

    public init(
        pipeline: RelayPipeline, deadLetters: DeadLetterFile, secret: [UInt8], ackTimeout: Duration, logger: Logger,
        now: @escaping @Sendable () -> Int64
    ) {
        self.pipeline = pipeline
        self.deadLetters = deadLetters
        self.secret = secret
        self.ackTimeout = ackTimeout
        self.logger = logger
        self.now = now
    }

    /// Retry-After on a 503: soon enough that a short cluster hiccup costs seconds, not the streamer's backoff.
    public static let retryAfterSeconds = 5

    public func authorized(_ header: String?) -> Bool {
        guard let header, header.utf8.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        return ConstantTime.equal(header.utf8.dropFirst(7), secret)
    }

    public func receive(authorization: String?, body: [UInt8]) async -> Answer {
        pipeline.counters.withLock { $0.webhookRequests += 1 }
        guard authorized(authorization) else {
            pipeline.counters.withLock { $0.webhookRefused += 1 }
            logger.warning("webhook request refused: missing or wrong bearer token")
            return Answer(status: 401, body: Self.error("missing or wrong Authorization bearer token"))
        }
        let elements: [WebhookBody.Element]
        do {
            elements = try WebhookBody.elements(of: body)
        } catch {
            pipeline.counters.withLock { $0.webhookRefused += 1 }
            logger.warning("webhook body refused", metadata: ["reason": "\(error.description)"])
            return Answer(status: 400, body: Self.error(error.description))
        }
        var events: [EmnifyEvent] = []
        var rejected: [(reason: String, raw: [UInt8])] = []
        var usage = 0
        for element in elements {
            switch element {
            case .event(let event): events.append(event)
            case .usage: usage += 1
            case .rejected(let reason, let raw): rejected.append((reason, raw))
            }
        }
        do {
            // Written before anything is acknowledged to the streamer: a 2xx never loses an element.
            try deadLetters.append(rejected, receivedAtMillis: now())
        } catch {
            logger.error("cannot write the dead-letter file; answering 503", metadata: ["error": "\(error)"])
            return unavailable("the relay cannot write its dead-letter file (\(error)); check the disk")
        }
        if !rejected.isEmpty {
            logger.warning(
                "webhook elements set aside in the dead-letter file",
                metadata: ["count": "\(rejected.count)", "first reason": "\(rejected[0].reason)"])
        }
        let receivedAt = now()
        pipeline.counters.withLock {
            if !events.isEmpty { $0.lastStreamDeliveryMillis = receivedAt }
            $0.deadLettered += rejected.count
            $0.usageRecordsIgnored += usage
        }
        let outcome: RelayPipeline.Outcome
        do {
            let (pipeline, batch) = (self.pipeline, events)
            outcome = try await withTimeout(ackTimeout) { try await pipeline.publish(batch, from: .stream) }
        } catch {
            logger.warning(
                "webhook events not acknowledged by the cluster; answering 503", metadata: ["error": "\(error)"])
            return unavailable("the cluster did not acknowledge the events: \(error)")
        }
        let body =
            "{\"published\":\(outcome.published),\"duplicates\":\(outcome.duplicates),"
            + "\"dead_lettered\":\(rejected.count),\"usage_ignored\":\(usage)}"
        return Answer(status: 200, body: body)
    }

    private func unavailable(_ reason: String) -> Answer {
        Answer(status: 503, body: Self.error(reason), retryAfterSeconds: Self.retryAfterSeconds)
    }

    static func error(_ text: String) -> String {
        let encoded = (try? JSONEncoder().encode(["error": text])).map { String(decoding: $0, as: UTF8.self) }
        return encoded ?? "{\"error\":\"\"}"
    }
}
