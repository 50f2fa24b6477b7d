/// The relay's retained `health` topic: what an operator (and the other relay) needs at a glance.
public struct RelayHealth: Codable, Sendable, Equatable {
    public var relay: String
    /// This relay polls the organisation's feed now.
    public var polling: Bool
    public var onlineRelays: [String]
    public var lastPoll: String?
    public var lastPollError: String?
    public var pollCursor: OrgPollCursor?
    /// When the Data Streamer last delivered events to this relay (milliseconds since the epoch).
    public var lastStreamDeliveryMillis: Int64?
    public var simStates: Int
    public var counters: RelayCounters

    enum CodingKeys: String, CodingKey {
        case relay, polling, counters
        case onlineRelays = "online_relays"
        case lastPoll = "last_poll"
        case lastPollError = "last_poll_error"
        case pollCursor = "poll_cursor"
        case lastStreamDeliveryMillis = "last_stream_delivery_ms"
        case simStates = "sim_states"
    }
}
