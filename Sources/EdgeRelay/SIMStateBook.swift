import EdgeAgent
import EdgeCommon
import EmnifyAPI
import FoundationEssentials

/// The retained `<prefix>/<iccid>/state` of every SIM, derived with the agent's
/// `ConnectivityState`. Both relays keep the book from the cluster's retained states (`seed`),
/// so whichever relay receives a SIM's next event continues from the same state.
///
/// Events arrive unordered (the Data Streamer does not promise order): an event older than the
/// state's last event is published as an event but does not change the state.
public final class SIMStateBook: Sendable {
    struct Entry {
        var state = ConnectivityState()
        /// `state.lastEvent` as (time, id), kept beside it: compared for every event, parsed once.
        var order: (Int64, Int64) = (.min, .min)
    }

    struct Book {
        var entries: [String: Entry] = [:]
        /// ICCID → the change not acknowledged yet: its number tells a change made while the
        /// publication was in flight (still pending) from the one published.
        var pending: [String: UInt64] = [:]
        var changes: UInt64 = 0
    }

    private let book = Locked(Book())
    private let topics: RelayTopics

    public init(topics: RelayTopics) {
        self.topics = topics
    }

    public var count: Int { book.withLock { $0.entries.count } }

    public func state(iccid: String) -> ConnectivityState? { book.withLock { $0.entries[iccid]?.state } }

    /// A retained state read from the cluster: taken when it is newer than what the book holds.
    public func seed(iccid: String, payload: [UInt8]) {
        guard let state = try? JSONDecoder().decode(ConnectivityState.self, from: Data(payload)) else { return }
        let order = Self.order(of: state.lastEvent)
        book.withLock { book in
            if order >= book.entries[iccid]?.order ?? (.min, .min) {
                book.entries[iccid] = Entry(state: state, order: order)
            }
        }
    }

    /// Applies acknowledged events (any order) to their SIMs' states.
    public func apply(_ events: [EmnifyEvent]) {
        let ordered = events.filter { $0.iccid?.isEmpty == false }.sorted(by: EmnifyEvent.oldestFirst)
        guard !ordered.isEmpty else { return }
        book.withLock { book in
            for event in ordered {
                let iccid = event.iccid!
                var entry = book.entries[iccid] ?? Entry()
                let order = (event.timestamp.millisecondsSinceEpoch, event.id)
                guard order > entry.order else { continue }
                entry.state.apply(event)
                entry.order = order
                book.changes += 1
                book.pending[iccid] = book.changes
                book.entries[iccid] = entry
            }
        }
    }

    /// A state to publish: its SIM, the change it carries, the retained message.
    public struct Pending: Sendable {
        public let iccid: String
        let change: UInt64
        public let message: MQTTMessage
    }

    /// The retained messages of every state changed and not yet acknowledged.
    public func pendingMessages() -> [Pending] {
        book.withLock { book in
            book.pending.compactMap { iccid, change in
                book.entries[iccid].map {
                    Pending(
                        iccid: iccid, change: change,
                        message: MQTTMessage.json($0.state, topic: topics.state(iccid: iccid), retain: true))
                }
            }
            .sorted { $0.iccid < $1.iccid }
        }
    }

    /// The cluster acknowledged these states (a change made meanwhile stays pending).
    public func published(_ sent: [Pending]) {
        book.withLock { book in
            for pending in sent where book.pending[pending.iccid] == pending.change {
                book.pending[pending.iccid] = nil
            }
        }
    }

    private static func order(of last: ConnectivityState.LastEvent?) -> (Int64, Int64) {
        guard let last else { return (.min, .min) }
        return (EmnifyTimestamp(parsing: last.timestamp)?.millisecondsSinceEpoch ?? .min, last.id)
    }
}
