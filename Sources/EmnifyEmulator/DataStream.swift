/// One data stream's delivery state, kept in `EmulatorState` (under its lock): where it reads
/// the store's journal, the ids still to deliver, and what `GET /_emulator/streams` reports.
struct DataStream: Sendable {
    let id: Int
    let request: DataStreamRequest
    /// Position in `EventStore.journal` up to which new events have been taken into `pending`.
    var journalPosition: Int
    /// Ids to deliver, oldest first; a batch leaves only once the receiver acknowledged it.
    var pending: [Int64]
    var paused = false
    /// The last request failed; the next one is a retry after the backoff.
    var failing = false
    /// Set by restart: cut the current backoff short.
    var wake = false
    var delivered = 0
    var requests = 0
    var retries = 0
    var failures = 0
    var duplicates = 0
    var lastError: String?
    var lastStatus: Int?

    var statusName: String { paused ? "paused" : failing ? "retrying" : "running" }

    /// Moves the journal's new entries (those the stream's selection takes) into `pending`.
    mutating func takeNew(from store: EventStore) {
        // `.all` takes every entry without looking the event up.
        for id in store.journalEntries(from: journalPosition)
        where request.selection == .all || store.event(id: id).map(request.selection.takes) == true {
            pending.append(id)
        }
        journalPosition = store.journalEnd
    }

    var status: DataStreamStatus {
        DataStreamStatus(
            id: id, url: request.url, method: request.method.rawValue,
            // Masked when read back, as emnify does: the header is the receiver's only authentication.
            headers: request.headers.map { "\($0.name):***" }, size: request.size, status: statusName,
            delivered: delivered, pending: pending.count, requests: requests, retries: retries, failures: failures,
            duplicates: duplicates, lastError: lastError, lastStatus: lastStatus)
    }
}

extension DataStreamRequest.Selection {
    /// Whether a stream with this selection delivers `event` (new or from the backlog).
    func takes(_ event: StoredEvent) -> Bool {
        switch (self, event.body) {
        case (.all, _), (.generated, .generated): true
        case (.generated, .raw): false
        }
    }
}

/// What `GET /_emulator/streams` reports per stream.
public struct DataStreamStatus: Sendable {
    public let id: Int
    public let url: String
    public let method: String
    /// `name:***`
    public let headers: [String]
    public let size: Int
    /// `running`, `retrying` (the last request failed) or `paused`.
    public let status: String
    /// Events acknowledged by the receiver (first deliveries; re-sends count in `duplicates`).
    public let delivered: Int
    /// Events not yet acknowledged.
    public let pending: Int
    public let requests: Int
    /// Requests that repeated a failed one.
    public let retries: Int
    /// Requests that failed: non-2xx answers, connection errors, timeouts.
    public let failures: Int
    /// Events sent again after the receiver had acknowledged them (`duplicate_rate`).
    public let duplicates: Int
    public let lastError: String?
    public let lastStatus: Int?

    var json: JSONValue {
        .object([
            ("id", .int(Int64(id))), ("url", .string(url)), ("method", .string(method)),
            ("headers", .array(headers.map { .string($0) })), ("size", .int(Int64(size))),
            ("status", .string(status)), ("delivered", .int(Int64(delivered))), ("pending", .int(Int64(pending))),
            ("requests", .int(Int64(requests))), ("retries", .int(Int64(retries))),
            ("failures", .int(Int64(failures))), ("duplicates", .int(Int64(duplicates))),
            ("last_error", lastError.map { .string($0) } ?? .null),
            ("last_status", lastStatus.map { .int(Int64($0)) } ?? .null),
        ])
    }
}
