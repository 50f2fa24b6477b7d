import FoundationEssentials

/// A SIM as `GET /api/v1/sim` returns it: the fields the agent needs to find its endpoint.
public struct SIM: Sendable, Equatable, Codable {
    public struct Endpoint: Sendable, Equatable, Codable {
        public var id: Int64
        public var name: String?

        public init(id: Int64, name: String? = nil) {
            self.id = id
            self.name = name
        }
    }

    public var id: Int64
    public var iccid: String?
    public var iccidWithLuhn: String?
    public var imsi: String?
    public var status: String?
    /// nil when the SIM is not assigned to an endpoint yet: a normal state, not an error.
    public var endpoint: Endpoint?

    public init(
        id: Int64, iccid: String? = nil, iccidWithLuhn: String? = nil, imsi: String? = nil, status: String? = nil,
        endpoint: Endpoint? = nil
    ) {
        self.id = id
        self.iccid = iccid
        self.iccidWithLuhn = iccidWithLuhn
        self.imsi = imsi
        self.status = status
        self.endpoint = endpoint
    }

    enum CodingKeys: String, CodingKey {
        case id, iccid, imsi, status, endpoint
        case iccidWithLuhn = "iccid_with_luhn"
    }

    private struct Status: Decodable {
        var description: String?
    }

    private struct IMSIObject: Decodable {
        var imsi: String?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        iccid = try? c.decodeIfPresent(String.self, forKey: .iccid)
        iccidWithLuhn = try? c.decodeIfPresent(String.self, forKey: .iccidWithLuhn)
        if let text = try? c.decodeIfPresent(String.self, forKey: .imsi) {
            imsi = text
        } else {
            imsi = (try? c.decodeIfPresent(IMSIObject.self, forKey: .imsi))?.imsi
        }
        status = (try? c.decodeIfPresent(Status.self, forKey: .status))?.description
        endpoint = try? c.decodeIfPresent(Endpoint.self, forKey: .endpoint)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encodeIfPresent(iccid, forKey: .iccid)
        try c.encodeIfPresent(iccidWithLuhn, forKey: .iccidWithLuhn)
        try c.encodeIfPresent(imsi, forKey: .imsi)
        try c.encodeIfPresent(endpoint, forKey: .endpoint)
    }
}

/// `GET /api/v1/endpoint/{id}`: what diagnostics needs of an endpoint.
public struct EndpointDetails: Sendable, Equatable {
    public var id: Int64
    public var name: String?
    /// `Enabled` or `Disabled`.
    public var status: String?
}

/// `GET /api/v1/endpoint/{id}/connectivity`.
public struct ConnectivityStatus: Sendable, Equatable {
    /// `ATTACHED`, `ONLINE`, `OFFLINE` or `BLOCKED`.
    public var status: String
    public var raw: [UInt8]
}

public enum ConnectivityReset: String, Sendable, CaseIterable {
    /// Cancel Location: the device re-attaches (Purge / Update location events follow).
    case location
    /// Tears down the data session (Delete / Create PDP Context events follow).
    case pdpContext = "pdp_context"
}
