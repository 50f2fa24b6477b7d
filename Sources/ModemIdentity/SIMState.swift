/// What the modem says about the SIM card.
public enum SIMState: String, Sendable, Codable, CaseIterable {
    case ready
    case pinRequired = "pin-required"
    case pukRequired = "puk-required"
    case notInserted = "not-inserted"
    /// Still initialising (right after power-up or `CFUN=1`): retry.
    case busy
    case failure
    case unknown
}
