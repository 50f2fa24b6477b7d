/// One SIM of the emulated organisation with its endpoint and IMSI. The first (`index` 0) is
/// derived from the seed; the others of a fleet (`Fleet`) from the first and their index.
public struct SimIdentity: Sendable {
    /// Position in the fleet (0: the seed's SIM, the one `EMULATOR_READY` names).
    public let index: Int
    public let organisationID: Int64
    public let organisationName: String
    public let simID: Int64
    /// nil when the SIM has no endpoint assigned (a normal state).
    public let endpointID: Int64?
    public let endpointName: String
    public let imei: String
    public let endpointIPAddress: String
    /// emnify's `iccid`: 19 digits, no Luhn check digit.
    public let iccid: String
    /// What a modem reports: 20 digits including the check digit (`iccid_with_luhn`).
    public let iccidWithLuhn: String
    public let imsi: String
    let imsiID: Int64
    let userID: Int64
    let productionDate = "2020-12-23T13:02:11.000Z"

    init(seed: UInt64, hasEndpoint: Bool) {
        var random = SeededRandom(seed: seed ^ 0x5EED_1D37)
        index = 0
        organisationID = Int64.random(in: 1000...999_999, using: &random)
        organisationName = "Emulated Org"
        simID = Int64.random(in: 100_000...99_999_999, using: &random)
        let endpoint = Int64.random(in: 1_000_000...99_999_999, using: &random)
        endpointID = hasEndpoint ? endpoint : nil
        endpointName = "Gateway \(endpoint % 10_000)"
        imei = random.digits(15)
        endpointIPAddress =
            "10.\(Int.random(in: 0...255, using: &random)).\(Int.random(in: 0...255, using: &random)).\(Int.random(in: 1...254, using: &random))"
        iccid = Fleet.iccidPrefix + random.digits(12)
        iccidWithLuhn = iccid + String(SimIdentity.luhnCheckDigit(iccid))
        imsi = "295050" + random.digits(9)
        imsiID = Int64.random(in: 100_000...99_999_999, using: &random)
        userID = Int64.random(in: 100_000...9_999_999, using: &random)
    }

    /// Fleet member `index` (1...): ids in ranges of their own (above the first SIM's), ICCID and
    /// IMSI digits counted on from the first SIM's, so each is distinct and found again by
    /// arithmetic (`Fleet.index(ofICCID:)`) instead of a table: 10,000 SIMs cost nothing.
    init(member index: Int, of first: SimIdentity) {
        self.index = index
        organisationID = first.organisationID
        organisationName = first.organisationName
        simID = Fleet.memberSimIDBase + Int64(index)
        endpointID = Fleet.memberEndpointIDBase + Int64(index)
        endpointName = "Gateway \(index)"
        imei = "35" + Fleet.padded(UInt64(index), width: 13)
        endpointIPAddress = "10.\(128 + (index >> 16) & 127).\((index >> 8) & 255).\(index & 255)"
        let serial = (Fleet.serial(ofICCID: first.iccid) + UInt64(index)) % Fleet.iccidSerials
        iccid = Fleet.iccidPrefix + Fleet.padded(serial, width: 12)
        iccidWithLuhn = iccid + String(SimIdentity.luhnCheckDigit(iccid))
        let msin = (UInt64(first.imsi.dropFirst(6)) ?? 0) + UInt64(index)
        imsi = "295050" + Fleet.padded(msin % 1_000_000_000, width: 9)
        imsiID = Fleet.memberIMSIIDBase + Int64(index)
        userID = first.userID
    }

    static func luhnCheckDigit(_ payload: String) -> Int {
        var sum = 0
        for (index, character) in payload.reversed().enumerated() {
            let digit = character.wholeNumberValue ?? 0
            if index % 2 == 0 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return (10 - sum % 10) % 10
    }
}
