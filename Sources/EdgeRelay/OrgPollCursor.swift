/// Where org-wide polling stands, in whole seconds (the API's `from`/`until` resolution).
///
/// Every stretch of time is read twice: once fresh (soon after it happened, so that without the
/// stream events still arrive within a poll interval) and once settled, when it is `look_back`
/// old (events appear in the API up to `look_back` late). Invariant: every event with a timestamp
/// before `settledUntil` is on the cluster. The relays share the cursor through a retained topic,
/// so the relay that takes polling over continues where the other stopped.
public struct OrgPollCursor: Codable, Sendable, Equatable {
    /// End of the last fresh read.
    public var freshUntil: Int64
    /// End of the last settled read (see the invariant).
    public var settledUntil: Int64

    public init(freshUntil: Int64, settledUntil: Int64) {
        self.freshUntil = freshUntil
        self.settledUntil = settledUntil
    }

    /// Two relays' cursors: each field is a promise about what is on the cluster, so the later holds.
    public func merged(with other: OrgPollCursor?) -> OrgPollCursor {
        guard let other else { return self }
        return OrgPollCursor(
            freshUntil: max(freshUntil, other.freshUntil), settledUntil: max(settledUntil, other.settledUntil))
    }

    enum CodingKeys: String, CodingKey {
        case freshUntil = "fresh_until"
        case settledUntil = "settled_until"
    }
}
