/// Paging, sorting and `q` filters of the event feeds, validated like the real API:
/// bad paging or sorting is `400`, a bad `q` is `422`.
struct EventQuery: Sendable {
    enum Feed: Sendable, Equatable {
        case endpoint(Int64)
        case sim(Int64)
        case user(Int64)
        case organisation

        /// The organisation-wide feeds return the last page again for a page past the last
        /// (emnify's documented quirk); the per-SIM and per-endpoint feeds answer `[]`.
        var repeatsLastPage: Bool {
            switch self {
            case .organisation, .user: true
            case .endpoint, .sim: false
            }
        }
    }

    /// A feed and the `iccid`/`endpoint` filters turned into fleet indices (`resolve(in:)`).
    enum Scope: Sendable, Equatable {
        case sim(Int32)
        case endpoint(Int32)
        case user(Int64)
        case organisation
        /// An id the fleet does not have: `200 []`, as the service answers.
        case nothing
    }

    enum SortField: String, Sendable {
        case id, timestamp, source, severity, alert, type
        // Accepted by the API; all events of the emulator share these values.
        case organisation, user, endpoint, tags, ip_address, iccid, imsi
    }

    struct Invalid: Error, Sendable {
        let status: Int
        let message: String
    }

    static let maxPerPage = 1000
    static let defaultPerPage = 1000

    var page = 1
    var perPage = defaultPerPage
    var sort: [(SortField, Bool)] = [(.id, false)]
    var sortText = "id"
    var from: Int64?
    var until: Int64?
    var types: Set<Int>?
    var severities: Set<Int>?
    var sources: Set<Int>?
    var alert: Bool?
    var descriptionContains: String?
    /// `iccid:` values (19 digits) and `endpoint:` ids as given, and as fleet indices once resolved.
    var iccids: [String]?
    /// `imsi:` and `iccid_with_luhn:` values: further ways to name SIMs (resolved like `iccids`).
    var imsis: [String]?
    var iccidsWithLuhn: [String]?
    var endpointIDs: Set<Int>?
    private(set) var simIndices: Set<Int32>?
    private(set) var endpointIndices: Set<Int32>?

    init(parameters: [String: String]) throws(Invalid) {
        if let text = parameters["page"] {
            guard let value = Int(text), value >= 1 else {
                throw Invalid(status: 400, message: "Invalid page: '\(text)'")
            }
            page = value
        }
        if let text = parameters["per_page"] {
            guard let value = Int(text), (1...EventQuery.maxPerPage).contains(value) else {
                throw Invalid(status: 400, message: "Invalid per_page: '\(text)' (1 to \(EventQuery.maxPerPage))")
            }
            perPage = value
        }
        if let text = parameters["sort"], !text.isEmpty {
            var fields: [(SortField, Bool)] = []
            for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
                // `+` may arrive as a space after form decoding.
                var name = Substring(raw)
                var descending = false
                if name.first == "-" {
                    descending = true
                    name = name.dropFirst()
                } else if name.first == "+" || name.first == " " {
                    name = name.dropFirst()
                }
                guard let field = SortField(rawValue: String(name)) else {
                    throw Invalid(status: 400, message: "Invalid sort field: '\(raw)'")
                }
                fields.append((field, descending))
            }
            sort = fields
            sortText = text
        }
        if let text = parameters["q"], !text.isEmpty {
            try parseFilter(text)
        }
    }

    private mutating func parseFilter(_ text: String) throws(Invalid) {
        func invalid(_ message: String) -> Invalid { Invalid(status: 422, message: message) }
        func numbers(_ value: Substring, _ name: String) throws(Invalid) -> Set<Int> {
            let parts = value.split(separator: "|", omittingEmptySubsequences: false)
            guard (1...6).contains(parts.count) else { throw invalid("Too many values for filter '\(name)'") }
            var result = Set<Int>()
            for part in parts {
                guard let number = Int(part) else { throw invalid("Invalid value '\(part)' for filter '\(name)'") }
                result.insert(number)
            }
            return result
        }
        func digitStrings(_ value: Substring, _ name: String, count: Int, hint: String = "") throws(Invalid)
            -> [String]
        {
            let parts = value.split(separator: "|", omittingEmptySubsequences: false)
            guard (1...6).contains(parts.count) else { throw invalid("Too many values for filter '\(name)' (up to 6)") }
            for part in parts where part.utf8.count != count || !part.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                throw invalid("Invalid value '\(part)' for filter '\(name)': expected \(count) digits\(hint)")
            }
            return parts.map(String.init)
        }
        for item in text.split(separator: ",") {
            guard let colon = item.firstIndex(of: ":") else {
                throw invalid("Invalid filter '\(item)': expected field:value")
            }
            let name = String(item[..<colon])
            let value = item[item.index(after: colon)...]
            switch name {
            case "from", "until":
                guard let millis = EmulatorTime.parseFilterDate(String(value)) else {
                    throw invalid("Invalid date '\(value)' for '\(name)': expected YYYY-MM-DDTHH:mm:ssZ")
                }
                if name == "from" { from = millis } else { until = millis }
            case "type": types = try numbers(value, name)
            case "severity": severities = try numbers(value, name)
            case "source": sources = try numbers(value, name)
            case "alert":
                guard value == "true" || value == "false" else { throw invalid("Invalid value '\(value)' for 'alert'") }
                alert = value == "true"
            case "description": descriptionContains = String(value).lowercased()
            case "iccid": iccids = try digitStrings(value, name, count: 19, hint: " (without the Luhn digit)")
            case "imsi": imsis = try digitStrings(value, name, count: 15)
            case "iccid_with_luhn": iccidsWithLuhn = try digitStrings(value, name, count: 20)
            case "endpoint": endpointIDs = try numbers(value, name)
            case "organisation", "user", "tags", "ip_address", "imei", "network", "rat", "country":
                break  // accepted and not applied: the emulator's events share these or do not carry them
            default:
                throw invalid("Invalid filter field '\(name)'")
            }
        }
        if (from == nil) != (until == nil) {
            throw invalid("'from' and 'until' are only valid together")
        }
        if let from, let until, from > until {
            throw invalid("'from' must not be after 'until'")
        }
    }

    /// The feed's SIM or endpoint as a fleet index, and the `iccid`/`endpoint` filters as sets
    /// of them (an ICCID or endpoint the fleet lacks matches nothing).
    mutating func resolve(_ feed: Feed, in fleet: Fleet) -> Scope {
        // Several SIM filters together: a SIM must match each.
        for named in [
            iccids?.map { fleet.index(ofICCID: $0) },
            imsis?.map { fleet.index(ofIMSI: $0) },
            iccidsWithLuhn?.map { iccid in
                fleet.index(ofICCID: String(iccid.prefix(19))).flatMap {
                    fleet.member($0).iccidWithLuhn == iccid ? $0 : nil
                }
            },
        ] {
            guard let named else { continue }
            let found = Set(named.compactMap { $0.map { Int32($0) } })
            simIndices = simIndices.map { $0.intersection(found) } ?? found
        }
        if let endpointIDs {
            endpointIndices = Set(endpointIDs.compactMap { fleet.index(ofEndpointID: Int64($0)).map { Int32($0) } })
        }
        switch feed {
        case .organisation: return .organisation
        case .user(let id): return .user(id)
        case .sim(let id): return fleet.index(ofSimID: id).map { .sim(Int32($0)) } ?? .nothing
        case .endpoint(let id):
            // The first SIM may have no endpoint: its index is then no endpoint's.
            if id == fleet.first.endpointID ?? -1 { return .endpoint(0) }
            guard let index = fleet.index(ofEndpointID: id), index > 0 else { return .nothing }
            return .endpoint(Int32(index))
        }
    }

    func matches(_ event: StoredEvent, scope: Scope, userID: Int64) -> Bool {
        switch scope {
        case .endpoint(let index):
            guard event.hasEndpoint, event.simIndex == index else { return false }
        case .sim(let index):
            guard event.hasSim, event.simIndex == index else { return false }
        case .user(let id):
            guard event.hasUser, (event.userID ?? userID) == id else { return false }
        case .organisation: break
        case .nothing: return false
        }
        if let simIndices, !(event.hasSim && simIndices.contains(event.simIndex)) { return false }
        if let endpointIndices, !(event.hasEndpoint && endpointIndices.contains(event.simIndex)) { return false }
        if let from, event.timestampMillis < from { return false }
        if let until, event.timestampMillis > until { return false }
        if let types, !types.contains(event.typeID) { return false }
        if let severities, !severities.contains(event.severity) { return false }
        if let sources, !sources.contains(event.source) { return false }
        if let alert, event.alert != alert { return false }
        return true
    }

    /// True when `lhs` comes before `rhs` in the requested order (ties broken by ascending id).
    func ordered(_ lhs: StoredEvent, _ rhs: StoredEvent) -> Bool {
        for (field, descending) in sort {
            let a: Int64
            let b: Int64
            switch field {
            case .id: (a, b) = (lhs.id, rhs.id)
            case .timestamp: (a, b) = (lhs.timestampMillis, rhs.timestampMillis)
            case .source: (a, b) = (Int64(lhs.source), Int64(rhs.source))
            case .severity: (a, b) = (Int64(lhs.severity), Int64(rhs.severity))
            case .alert: (a, b) = (lhs.alert ? 1 : 0, rhs.alert ? 1 : 0)
            case .type: (a, b) = (Int64(lhs.typeID), Int64(rhs.typeID))
            default: continue
            }
            if a != b { return descending ? a > b : a < b }
        }
        return lhs.id < rhs.id
    }

    var isDefaultOrder: Bool {
        sort.count == 1 && sort[0].0 == .id && !sort[0].1
    }
}
