import EmnifyAPI

/// The connectivity truth derived from the events, published retained on `<prefix>/<iccid>/state`
/// so that a subscriber that starts late knows at once whether the device is registered, has a
/// data session, is blocked or out of quota. Fields stay nil until an event says something.
public struct ConnectivityState: Codable, Sendable, Equatable {
    public struct LastEvent: Codable, Sendable, Equatable {
        public var id: Int64
        public var type: String
        public var timestamp: String
    }

    /// Attached to the network (Update Location) or not (Purge Location).
    public var registered: Bool?
    /// `up` or `down`.
    public var dataSession: String?
    /// Why the last data session attempt failed (the event's description), when it did.
    public var dataSessionRejection: String?
    public var blocked: Bool?
    /// `active`, `threshold_reached`, `used_up`, `expired`, `disabled`.
    public var dataQuota: String?
    public var smsQuota: String?
    public var simStatus: String?
    public var operatorName: String?
    public var country: String?
    public var networkGeneration: String?
    public var lastEvent: LastEvent?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case registered, blocked, country
        case dataSession = "data_session"
        case dataSessionRejection = "data_session_rejection"
        case dataQuota = "data_quota"
        case smsQuota = "sms_quota"
        case simStatus = "sim_status"
        case operatorName = "operator"
        case networkGeneration = "network_generation"
        case lastEvent = "last_event"
    }

    /// Applies one event; events must be applied oldest first.
    /// `apply`, unless the state already comes from a later event: bridged events arrive in any order
    /// (the Data Streamer does not promise one), where a poll applies its events oldest first.
    public mutating func applyIfNewer(_ event: EmnifyEvent) {
        if let last = lastEvent, let lastMillis = EmnifyTimestamp(parsing: last.timestamp)?.millisecondsSinceEpoch,
            (lastMillis, last.id) >= (event.timestamp.millisecondsSinceEpoch, event.id)
        {
            return
        }
        apply(event)
    }

    public mutating func apply(_ event: EmnifyEvent) {
        let failed = (event.severity?.id ?? 0) >= 1 || event.alert == true
        switch event.type.id {
        case 1, 2:
            if !failed { registered = true }
        case 15, 16:
            registered = false
            dataSession = "down"
        case 3, 4:
            if failed {
                dataSession = "down"
                dataSessionRejection = event.description
            } else {
                dataSession = "up"
                dataSessionRejection = nil
            }
        case 5:
            dataSession = "down"
        case 11, 12, 43:
            blocked = true
        case 42:
            blocked = false
        case 18: dataQuota = "threshold_reached"
        case 19: dataQuota = "used_up"
        case 52, 56: dataQuota = "active"
        case 53, 57: dataQuota = "disabled"
        case 60: dataQuota = "expired"
        case 20: smsQuota = "threshold_reached"
        case 21: smsQuota = "used_up"
        case 54, 58: smsQuota = "active"
        case 55, 59: smsQuota = "disabled"
        case 8: simStatus = "activated"
        case 9: simStatus = "suspended"
        case 45: simStatus = "factory_test"
        default: break
        }
        if let name = event.operatorName { operatorName = name }
        if let name = event.countryName { country = name }
        if let rat = event.ratType, let generation = EventTypeCatalog.networkGeneration(ratType: rat) {
            networkGeneration = generation
        }
        lastEvent = LastEvent(id: event.id, type: event.typeSlug, timestamp: event.timestamp.text)
    }
}
