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
    struct Book {
        var states: [String: ConnectivityState] = [:]
        /// Changed since last published: published with the next batch, again if that failed.
        var dirty: Set<String> = []
    }

    private let book = Locked(Book())
    private let topics: RelayTopics

    public init(topics: RelayTopics) {
        self.topics = topics
    }

    public var count: Int { book.withLock { $0.states.count } }

    public func state(iccid: String) -> ConnectivityState? { book.withLock { $0.states[iccid] } }

    /// A retained state read from the cluster: taken when it is newer than what the book holds.
    public func seed(iccid: String, payload: [UInt8]) {
        guard let state = try? JSONDecoder().decode(ConnectivityState.self, from: Data(payload)) else { return }
        book.withLock { book in
            if Self.order(of: state.lastEvent) >= Self.order(of: book.states[iccid]?.lastEvent) {
                book.states[iccid] = state
            }
        }
    }

    /// Applies acknowledged events (any order) to their SIMs' states.
    public func apply(_ events: [EmnifyEvent]) {
        let ordered = events.filter { $0.iccid?.isEmpty == false }.sorted {
            ($0.timestamp.millisecondsSinceEpoch, $0.id) < ($1.timestamp.millisecondsSinceEpoch, $1.id)
        }
        guard !ordered.isEmpty else { return }
        book.withLock { book in
            for event in ordered {
                let iccid = event.iccid!
                var state = book.states[iccid] ?? ConnectivityState()
                guard (event.timestamp.millisecondsSinceEpoch, event.id) > Self.order(of: state.lastEvent) else {
                    continue
                }
                state.apply(event)
                book.states[iccid] = state
                book.dirty.insert(iccid)
            }
        }
    }

    /// The retained messages of every state changed and not yet acknowledged.
    public func pendingMessages() -> [(iccid: String, message: MQTTMessage)] {
        book.withLock { book in
            book.dirty.sorted().compactMap { iccid in
                book.states[iccid].map {
                    (iccid, MQTTMessage.json($0, topic: topics.state(iccid: iccid), retain: true))
                }
            }
        }
    }

    /// The cluster acknowledged these states (unless a newer change came meanwhile, which stays dirty).
    public func published(_ sent: [(iccid: String, message: MQTTMessage)]) {
        book.withLock { book in
            for (iccid, message) in sent {
                guard let current = book.states[iccid],
                    MQTTMessage.json(current, topic: message.topic, retain: true).payload == message.payload
                else { continue }
                book.dirty.remove(iccid)
            }
        }
    }

    private static func order(of last: ConnectivityState.LastEvent?) -> (Int64, Int64) {
        guard let last else { return (.min, .min) }
        return (EmnifyTimestamp(parsing: last.timestamp)?.millisecondsSinceEpoch ?? .min, last.id)
    }
}
