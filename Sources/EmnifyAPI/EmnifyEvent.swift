import FoundationEssentials

/// One emnify event: the fields the agent and the CLI use, plus the exact JSON emnify sent
/// (`raw`), which is what gets published. Decoding is lenient where emnify is inconsistent
/// (`alert` as bool or 0/1, `event_source.name` instead of `description`, nulls anywhere,
/// unknown fields) and strict only where it must be: `id`, `timestamp` and `event_type.id`.
public struct EmnifyEvent: Sendable, Identifiable, Equatable {
    public struct Reference: Sendable, Equatable {
        public var id: Int
        public var description: String?
    }

    public var id: Int64
    public var timestamp: EmnifyTimestamp
    public var alert: Bool?
    public var description: String?
    public var type: Reference
    public var source: Reference?
    public var severity: Reference?
    public var endpointID: Int64?
    public var endpointName: String?
    public var simID: Int64?
    public var iccid: String?
    public var imsi: String?
    /// Operator and country for network events (`detail.name`, `detail.country.name`).
    public var operatorName: String?
    public var countryName: String?
    public var countryISO: String?
    /// 3GPP RAT type of a PDP context (`detail.pdp_context.rat_type`).
    public var ratType: Int?
    /// The event exactly as emnify sent it.
    public var raw: [UInt8]

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension EmnifyEvent {
    /// The order events are published and applied in: by time, ties by id (the API's clock has
    /// millisecond resolution, so two events can share a timestamp).
    public static func oldestFirst(_ a: EmnifyEvent, _ b: EmnifyEvent) -> Bool {
        (a.timestamp.millisecondsSinceEpoch, a.id) < (b.timestamp.millisecondsSinceEpoch, b.id)
    }
}

// Initialisers in an extension: the struct keeps Swift's memberwise initializer, which both
// readers (this `Decodable` path and `EventFastReader`) fill.
extension EmnifyEvent {
    /// Decodes one event from its JSON bytes (one element of a feed page).
    public init(json: ArraySlice<UInt8>) throws(APIDecodingError) {
        if let event = EventFastReader.read(json) {
            self = event
            return
        }
        try self.init(decoding: json)
    }

    public init(json: [UInt8]) throws(APIDecodingError) {
        try self.init(json: json[...])
    }

    /// The `Decodable` path: decides everything the fast reader leaves to it, and words the errors.
    init(decoding json: ArraySlice<UInt8>) throws(APIDecodingError) {
        let bytes = Array(json)
        let wire: WireEvent
        do {
            wire = try JSONDecoder().decode(WireEvent.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .invalidEvent(index: 0, reason: Self.describe(error))
        } catch {
            throw .invalidEvent(index: 0, reason: "\(error)")
        }
        guard let id = wire.id else { throw .invalidEvent(index: 0, reason: "it has no id") }
        guard let text = wire.timestamp, let timestamp = EmnifyTimestamp(parsing: text) else {
            throw .invalidEvent(index: 0, reason: "event \(id) has no readable timestamp (\(wire.timestamp ?? "null"))")
        }
        guard let type = wire.eventType else {
            throw .invalidEvent(index: 0, reason: "event \(id) has no event_type.id")
        }
        self.init(
            id: id, timestamp: timestamp, alert: wire.alert, description: wire.description, type: type,
            source: wire.eventSource, severity: wire.eventSeverity, endpointID: wire.endpoint?.id,
            endpointName: wire.endpoint?.name, simID: wire.sim?.id, iccid: wire.sim?.iccid, imsi: wire.imsi?.imsi,
            operatorName: wire.detail?.name, countryName: wire.detail?.country?.name,
            countryISO: wire.detail?.country?.isoCode, ratType: wire.detail?.pdpContext?.ratType, raw: bytes)
    }
}

/// The wire shape. Only `id` must decode as declared: a 64-bit integer, never a Double
/// (values above 2^53 would silently change).
private struct WireEvent: Decodable {
    var id: Int64?
    var timestamp: String?
    var alert: Bool?
    var description: String?
    var eventType: EmnifyEvent.Reference?
    var eventSource: EmnifyEvent.Reference?
    var eventSeverity: EmnifyEvent.Reference?
    var endpoint: Named?
    var sim: SIMPart?
    var imsi: IMSIPart?
    var detail: Detail?

    enum CodingKeys: String, CodingKey {
        case id, timestamp, alert, description, endpoint, sim, imsi, detail
        case eventType = "event_type", eventSource = "event_source", eventSeverity = "event_severity"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(Int64.self, forKey: .id)
        timestamp = try? c.decodeIfPresent(String.self, forKey: .timestamp)
        if let flag = try? c.decodeIfPresent(Bool.self, forKey: .alert) {
            alert = flag
        } else if let number = try? c.decodeIfPresent(Int.self, forKey: .alert) {
            alert = number != 0
        }
        description = try? c.decodeIfPresent(String.self, forKey: .description)
        eventType = (try? c.decodeIfPresent(LenientReference.self, forKey: .eventType))?.reference
        eventSource = (try? c.decodeIfPresent(LenientReference.self, forKey: .eventSource))?.reference
        eventSeverity = (try? c.decodeIfPresent(LenientReference.self, forKey: .eventSeverity))?.reference
        endpoint = try? c.decodeIfPresent(Named.self, forKey: .endpoint)
        sim = try? c.decodeIfPresent(SIMPart.self, forKey: .sim)
        imsi = try? c.decodeIfPresent(IMSIPart.self, forKey: .imsi)
        detail = try? c.decodeIfPresent(Detail.self, forKey: .detail)
    }
}

/// `{id, description}` or `{id, name}`; nil when there is no usable id.
private struct LenientReference: Decodable {
    var reference: EmnifyEvent.Reference?

    enum CodingKeys: String, CodingKey { case id, description, name }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let id = try? c.decode(Int.self, forKey: .id) else { return }
        let text =
            (try? c.decodeIfPresent(String.self, forKey: .description))
            ?? (try? c.decodeIfPresent(String.self, forKey: .name)) ?? nil
        reference = .init(id: id, description: text)
    }
}

private struct Named: Decodable {
    var id: Int64?
    var name: String?

    enum CodingKeys: String, CodingKey { case id, name }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try? c.decodeIfPresent(Int64.self, forKey: .id)
        name = try? c.decodeIfPresent(String.self, forKey: .name)
    }
}

private struct SIMPart: Decodable {
    var id: Int64?
    var iccid: String?

    enum CodingKeys: String, CodingKey { case id, iccid }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try? c.decodeIfPresent(Int64.self, forKey: .id)
        iccid = try? c.decodeIfPresent(String.self, forKey: .iccid)
    }
}

private struct IMSIPart: Decodable {
    var imsi: String?

    enum CodingKeys: String, CodingKey { case imsi }

    init(from decoder: any Decoder) throws {
        // `imsi` is an object {id, imsi, import_date}; tolerate a bare string too.
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            imsi = text
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imsi = try? c.decodeIfPresent(String.self, forKey: .imsi)
    }
}

private struct Detail: Decodable {
    struct Country: Decodable {
        var name: String?
        var isoCode: String?
        enum CodingKeys: String, CodingKey { case name, isoCode = "iso_code" }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try? c.decodeIfPresent(String.self, forKey: .name)
            isoCode = try? c.decodeIfPresent(String.self, forKey: .isoCode)
        }
    }

    struct PDPContext: Decodable {
        var ratType: Int?
        enum CodingKeys: String, CodingKey { case ratType = "rat_type" }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ratType = try? c.decodeIfPresent(Int.self, forKey: .ratType)
        }
    }

    var name: String?
    var country: Country?
    var pdpContext: PDPContext?

    enum CodingKeys: String, CodingKey { case name, country, pdpContext = "pdp_context" }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try? c.decodeIfPresent(String.self, forKey: .name)
        country = try? c.decodeIfPresent(Country.self, forKey: .country)
        pdpContext = try? c.decodeIfPresent(PDPContext.self, forKey: .pdpContext)
    }
}
