/// One event in the emulator's store: the fields the API filters and sorts on, plus either a
/// compact recipe for a generated event (rendered on demand, so 100,000 events take a few MB)
/// or the raw JSON of an injected one, served unchanged.
struct StoredEvent: Sendable {
    enum Body: Sendable {
        /// `variant` seeds the rendering; `session` links a PDP context's create and delete.
        case generated(kind: EventKind, variant: UInt32, session: UInt32, plusZeroTimestamp: Bool)
        case raw(String)
    }

    var id: Int64
    var timestampMillis: Int64
    var typeID: Int
    var source: Int
    var severity: Int
    var alert: Bool
    /// The event names the emulated endpoint / SIM (so it shows in their feeds).
    var hasEndpoint: Bool
    var hasSim: Bool
    /// The fleet member it names (`Fleet.member`), when `hasSim` or `hasEndpoint`.
    var simIndex: Int32 = 0
    /// A user event: the organisation's user (generated ones) or `userID` (raw ones) raised it.
    var hasUser = false
    var userID: Int64?
    var body: Body
}

extension StoredEvent {
    func json(identity: SimIdentity, seed: UInt64) -> String {
        switch body {
        case .raw(let text): return text
        case .generated(let kind, let variant, let session, let plusZero):
            return render(
                kind: kind, variant: variant, session: session, plusZero: plusZero, identity: identity, seed: seed
            )
            .rendered
        }
    }

    private func render(
        kind: EventKind, variant: UInt32, session: UInt32, plusZero: Bool, identity: SimIdentity, seed: UInt64
    ) -> JSONValue {
        var random = SeededRandom(seed: seed &+ UInt64(variant) &* 0x1000_0001)
        let sourceKind = EventSource(rawValue: source) ?? .network
        var members: [(String, JSONValue)] = [
            ("timestamp", .string(EmulatorTime.format(millis: timestampMillis, plusZero: plusZero))),
            ("alert", .bool(alert)),
            ("description", .string(description(kind: kind, identity: identity, random: &random))),
            ("id", .int(id)),
            (
                "event_type",
                .object([("id", .int(Int64(typeID))), ("description", .string(EventCatalog.typeName(typeID)))])
            ),
            ("event_source", .object([("id", .int(Int64(source))), ("description", .string(sourceKind.name))])),
            (
                "event_severity",
                .object([
                    ("id", .int(Int64(severity))),
                    ("description", .string(EventCatalog.severityNames[min(max(severity, 0), 2)])),
                ])
            ),
            (
                "organisation",
                .object([("id", .int(identity.organisationID)), ("name", .string(identity.organisationName))])
            ),
        ]
        if kind.isOrganisationOnly {
            if kind.namesUser {
                members.append(
                    (
                        "user",
                        .object([
                            ("id", .int(identity.userID)), ("name", "Jane Doe"), ("username", "jane@example.org"),
                        ])
                    )
                )
            }
            if let detail = detail(kind: kind, session: session, identity: identity, random: &random) {
                members.append(("detail", detail))
            }
            return .object(members)
        }
        if hasEndpoint, let endpointID = identity.endpointID {
            members.append(
                (
                    "endpoint",
                    .object([
                        ("id", .int(endpointID)), ("imei", .string(identity.imei)),
                        ("ip_address", .string(identity.endpointIPAddress)), ("name", .string(identity.endpointName)),
                        ("tags", .null),
                    ])
                )
            )
        }
        members.append(
            (
                "sim",
                .object([
                    ("iccid", .string(identity.iccid)), ("id", .int(identity.simID)),
                    ("production_date", .string(identity.productionDate)),
                ])
            )
        )
        members.append(
            (
                "imsi",
                .object([
                    ("id", .int(identity.imsiID)), ("import_date", .string(identity.productionDate)),
                    ("imsi", .string(identity.imsi)),
                ])
            )
        )
        if let detail = detail(kind: kind, session: session, identity: identity, random: &random) {
            members.append(("detail", detail))
        }
        return .object(members)
    }

    private func description(kind: EventKind, identity: SimIdentity, random: inout SeededRandom) -> String {
        switch kind {
        case .generic: return "Disconnecting data access for endpoint to apply throttling action."
        case .updateLocation:
            return
                "New location received from VLR for IMSI='\(identity.imsi)', now attached to VLR='\(random.digits(12))'."
        case .updateGPRSLocation:
            return
                "New location received from SGSN for IMSI='\(identity.imsi)', now attached to SGSN='\(random.digits(15))', IP='\(random.ipv4())'."
        case .createPDPContext: return "New PDP Context created."
        case .pdpContextRejected: return "PDP Context Request rejected, because endpoint has no quota."
        case .deletePDPContext: return "PDP Context deleted."
        case .userAuthenticationFailed:
            return
                "Failed authentication request from 'jane@example.org', Reason: Invalid password from IP \(random.ipv4())"
        case .endpointBlocked: return "Blocking data access for endpoint, traffic limit exceeded."
        case .purgeLocation: return "VLR location information has been purged for IMSI='\(identity.imsi)'."
        case .purgeGPRSLocation: return "SGSN location information has been purged for IMSI='\(identity.imsi)'."
        case .quotaThresholdReached: return "Endpoint quota threshold reached, volume is below 80%."
        case .quotaUsedUp: return "Quota volume is completely used up and data access denied for endpoint."
        case .multiFactorAuthentication:
            return
                "MFA key with Id '\(Int.random(in: 100...999, using: &random))' of Type 'Time-Based One-Time Password' deleted for user 'jane@example.org'"
        case .userVerified: return "User 'jane@example.org' verified successfully"
        case .organisationUpdated: return "Organisation data updated."
        }
    }

    private func detail(kind: EventKind, session: UInt32, identity: SimIdentity, random: inout SeededRandom)
        -> JSONValue?
    {
        let network = Operator.all[Int(session % UInt32(Operator.all.count))]
        switch kind {
        case .updateLocation, .updateGPRSLocation:
            return network.detail
        case .createPDPContext, .deletePDPContext:
            var sessionRandom = SeededRandom(seed: UInt64(session) &* 0x9E37_79B9)
            let ratTypes: [Int64] = [6, 6, 6, 6, 10, 10, 9, 8, 2, 1]
            let ratType = ratTypes[Int.random(in: 0..<ratTypes.count, using: &sessionRandom)]
            let created = EmulatorTime.format(
                millis: timestampMillis - (kind == .deletePDPContext ? 120_000 : 0), plusZero: false)
            let pdp: JSONValue = .object([
                ("breakout_ip", .null), ("rac", .null),
                ("sgsn_control_plane_ip_address", .string(sessionRandom.ipv4())),
                ("rat_type", .int(ratType)),
                ("tx_teid_data_plane", .int(Int64.random(in: 1...4_000_000_000, using: &sessionRandom))),
                ("region", "eu-west-1"), ("apn", .string("em")),
                ("tx_teid_control_plane", .int(Int64.random(in: 1...4_000_000_000, using: &sessionRandom))),
                ("tunnel_created", .string(String(created.prefix(19)))),
                ("ggsn_data_plane_ip_address", .string(sessionRandom.ipv4())),
                ("sgsn_data_plane_ip_address", .string(sessionRandom.ipv4())),
                ("rx_teid", .int(Int64.random(in: 1...4_000_000_000, using: &sessionRandom))),
                ("ci", .int(Int64.random(in: 1...65_535, using: &sessionRandom))),
                ("imsi", .string(identity.imsi)),
                ("lac", .int(Int64.random(in: 1...65_535, using: &sessionRandom))),
                ("mcc", .string(network.mcc)), ("sac", .null),
                ("ggsn_control_plane_ip_address", .string(sessionRandom.ipv4())),
                ("mnc", .string(network.mnc)),
                ("nsapi", 5),
                ("ue_ip_address", .string(identity.endpointIPAddress)),
                ("imeisv", .string(identity.imei + "01")),
                ("pdp_context_id", .int(Int64.random(in: 1_000_000...99_999_999, using: &sessionRandom))),
                ("gtp_version", ratType == 6 || ratType == 10 || ratType == 9 || ratType == 8 ? 2 : 1),
            ])
            let sessionID = uuid(&sessionRandom)
            var members: [(String, JSONValue)] = [("country", network.country)]
            if kind == .deletePDPContext {
                let rx = Double(Int.random(in: 0...900_000, using: &random)) / 1_000_000
                let tx = Double(Int.random(in: 0...300_000, using: &random)) / 1_000_000
                members.append(
                    ("volume", .object([("total", .double(rx + tx)), ("rx", .double(rx)), ("tx", .double(tx))])))
            }
            members += [
                ("id", .int(network.id)), ("session_id", .string(sessionID)), ("pdp_context", pdp),
                ("name", .string(network.name)),
            ]
            return .object(members)
        case .quotaThresholdReached, .quotaUsedUp:
            let volume: JSONValue =
                kind == .quotaUsedUp
                ? .string("1.000000") : .double(Double(Int.random(in: 1...999, using: &random)) / 10_000)
            return .object([
                (
                    "quota",
                    .object([("threshold_percentage", 80), ("threshold_volume", .double(0.8)), ("volume", volume)])
                )
            ])
        case .organisationUpdated:
            // The shape of the documented example (31-organisation-updated-1.json).
            return .object([
                (
                    "changed_data",
                    .array([
                        .object([
                            (
                                "name",
                                .object([("old", .string(identity.organisationName)), ("new", "Emulated Org Ltd.")])
                            )
                        ])
                    ])
                )
            ])
        default:
            return nil
        }
    }

    private func uuid(_ random: inout SeededRandom) -> String {
        let hex = Array("0123456789abcdef")
        var text = ""
        for index in 0..<32 {
            if [8, 12, 16, 20].contains(index) { text += "-" }
            text.append(hex[Int.random(in: 0..<16, using: &random)])
        }
        return text
    }
}

/// Networks the emulated SIM roams on (the `detail` of network events).
struct Operator: Sendable {
    let id: Int64
    let name: String
    let countryID: Int64
    let countryName: String
    let countryCode: String
    let mcc: String
    let isoCode: String
    let tapcode: String
    let mnc: String

    static let all: [Operator] = [
        Operator(
            id: 3, name: "Vodafone", countryID: 74, countryName: "Germany", countryCode: "49", mcc: "262",
            isoCode: "de", tapcode: "DEUD2", mnc: "02"),
        Operator(
            id: 1, name: "Telekom", countryID: 74, countryName: "Germany", countryCode: "49", mcc: "262",
            isoCode: "de", tapcode: "DEUD1", mnc: "01"),
        Operator(
            id: 5, name: "Telefonica", countryID: 74, countryName: "Germany", countryCode: "49", mcc: "262",
            isoCode: "de", tapcode: "DEUE2", mnc: "07"),
        Operator(
            id: 20, name: "Orange", countryID: 73, countryName: "France", countryCode: "33", mcc: "208",
            isoCode: "fr", tapcode: "FRAF1", mnc: "01"),
    ]

    var country: JSONValue {
        .object([
            ("id", .int(countryID)), ("name", .string(countryName)), ("country_code", .string(countryCode)),
            ("mcc", .string(mcc)), ("iso_code", .string(isoCode)),
        ])
    }

    var detail: JSONValue {
        .object([
            ("id", .int(id)), ("name", .string(name)), ("country", country),
            ("tapcode", .array([.object([("id", .int(id)), ("tapcode", .string(tapcode))])])),
            ("mnc", .array([.object([("id", .int(id)), ("mnc", .string(mnc))])])),
        ])
    }
}
