/// The ids of events recently published on the cluster, by this relay or the other one: a
/// Data Streamer retry or a reconciliation poll finds them here and publishes nothing twice.
///
/// Bounded: past `capacity` the oldest ids are forgotten (first in, first out). Size it for
/// longer than the poll's look-back window at the organisation's event rate; an id forgotten too
/// early means a duplicate, never a loss. Each id keeps when it was recorded, so that the recent
/// part can be saved and a restarted relay does not publish again what the reconciliation re-reads.
public struct RecentEventIDs: Sendable {
    public let capacity: Int
    private var members: Set<Int64> = []
    private var order: [(id: Int64, at: Int64)] = []
    private var head = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        members.reserveCapacity(min(capacity, 1 << 16))
    }

    public var count: Int { members.count }

    public func contains(_ id: Int64) -> Bool { members.contains(id) }

    /// Records `id` (at `at`, milliseconds); false when it was known already.
    @discardableResult
    public mutating func insert(_ id: Int64, at: Int64 = 0) -> Bool {
        guard members.insert(id).inserted else { return false }
        if order.count < capacity {
            order.append((id, at))
        } else {
            // A ring over `order`: overwrite the oldest.
            members.remove(order[head].id)
            order[head] = (id, at)
            head = (head + 1) % capacity
        }
        return true
    }

    /// The ids recorded at or after `since`, oldest first.
    public func ids(recordedSince since: Int64) -> [(id: Int64, at: Int64)] {
        let oldestFirst = order[head...] + order[..<head]
        return oldestFirst.filter { $0.at >= since }
    }
}
