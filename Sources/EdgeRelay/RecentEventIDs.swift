/// The ids of events recently published on the cluster, by this relay or the other one: a
/// Data Streamer retry or a reconciliation poll finds them here and publishes nothing twice.
///
/// Bounded: past `capacity` the oldest ids are forgotten (first in, first out). Size it for
/// longer than the poll's look-back window at the organisation's event rate; an id forgotten too
/// early means a duplicate, never a loss.
public struct RecentEventIDs: Sendable {
    public let capacity: Int
    private var members: Set<Int64> = []
    private var order: [Int64] = []
    private var head = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        members.reserveCapacity(min(capacity, 1 << 16))
    }

    public var count: Int { members.count }

    public func contains(_ id: Int64) -> Bool { members.contains(id) }

    /// Records `id`; false when it was known already.
    @discardableResult
    public mutating func insert(_ id: Int64) -> Bool {
        guard members.insert(id).inserted else { return false }
        if order.count < capacity {
            order.append(id)
        } else {
            // A ring over `order`: overwrite the oldest.
            members.remove(order[head])
            order[head] = id
            head = (head + 1) % capacity
        }
        return true
    }
}
