/// The emulated organisation's SIMs: the seed's SIM (index 0) and `count - 1` more, each derived
/// from its index (`SimIdentity(member:of:)`), so the fleet is a number, not a table. Lookups
/// by SIM id, endpoint id or ICCID invert that derivation.
public struct Fleet: Sendable {
    public static let maximumCount = 1_000_000
    static let iccidPrefix = "8988303"
    static let iccidSerials: UInt64 = 1_000_000_000_000
    // Above the first SIM's ranges (SIM id < 10^8, endpoint id < 10^8, IMSI id < 10^8).
    static let memberSimIDBase: Int64 = 100_000_000
    static let memberEndpointIDBase: Int64 = 200_000_000
    static let memberIMSIIDBase: Int64 = 300_000_000

    public let first: SimIdentity
    public private(set) var count: Int

    init(first: SimIdentity, count: Int) {
        self.first = first
        self.count = max(1, min(count, Fleet.maximumCount))
    }

    /// Grows the fleet to `count` SIMs (it never shrinks: events name the SIMs they were raised for).
    mutating func grow(to count: Int) {
        self.count = max(self.count, min(count, Fleet.maximumCount))
    }

    public func member(_ index: Int) -> SimIdentity {
        index == 0 ? first : SimIdentity(member: index, of: first)
    }

    public func index(ofSimID id: Int64) -> Int? {
        if id == first.simID { return 0 }
        return validMember(id - Fleet.memberSimIDBase)
    }

    public func index(ofEndpointID id: Int64) -> Int? {
        if let endpoint = first.endpointID, id == endpoint { return 0 }
        return validMember(id - Fleet.memberEndpointIDBase)
    }

    /// `iccid`: emnify's 19 digits (no Luhn check digit).
    public func index(ofICCID iccid: String) -> Int? {
        if iccid == first.iccid { return 0 }
        guard iccid.utf8.count == 19, iccid.hasPrefix(Fleet.iccidPrefix), let serial = UInt64(iccid.dropFirst(7))
        else { return nil }
        let offset = (serial + Fleet.iccidSerials - Fleet.serial(ofICCID: first.iccid)) % Fleet.iccidSerials
        return offset < UInt64(count) ? Int(offset) : nil
    }

    /// `imsi`: 15 digits.
    public func index(ofIMSI imsi: String) -> Int? {
        if imsi == first.imsi { return 0 }
        guard imsi.utf8.count == 15, imsi.hasPrefix("295050"), let msin = UInt64(imsi.dropFirst(6)),
            let firstMSIN = UInt64(first.imsi.dropFirst(6))
        else { return nil }
        let offset = (msin + 1_000_000_000 - firstMSIN) % 1_000_000_000
        return offset < UInt64(count) ? Int(offset) : nil
    }

    private func validMember(_ offset: Int64) -> Int? {
        offset >= 1 && offset < Int64(count) ? Int(offset) : nil
    }

    static func serial(ofICCID iccid: String) -> UInt64 { UInt64(iccid.dropFirst(7)) ?? 0 }

    static func padded(_ value: UInt64, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
