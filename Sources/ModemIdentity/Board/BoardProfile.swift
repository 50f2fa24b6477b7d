/// A gateway/modem profile from `firmware-config/boards/NAME.toml`: which source to prefer, the AT
/// port, the vendor's ICCID command and known quirks.
public struct BoardProfile: Sendable, Equatable {
    /// The file name without `.toml` (`quectel-ec25`).
    public var name: String
    public var description: String
    /// The source the board should use; nil leaves `[modem] source` as configured.
    public var source: ModemSource?
    /// AT port (`/dev/ttyUSB2`); nil when the profile only uses ModemManager.
    public var atPort: String?
    /// Vendor ICCID command (`AT+QCCID`); `AT+CRSM=176,12258,0,0,10` is always tried after it.
    public var iccidCommand: String?
    /// USB interface number of the AT port, to find it when `ttyUSBn` numbering moves.
    public var atInterface: Int?
    public var baudRate: Int?
    /// Free-text quirks, for humans and logs (`qccid-trailing-f`, `qccid-fails-in-cfun0`).
    public var quirks: [String]

    public init(
        name: String, description: String = "", source: ModemSource? = nil, atPort: String? = nil,
        iccidCommand: String? = nil, atInterface: Int? = nil, baudRate: Int? = nil, quirks: [String] = []
    ) {
        self.name = name
        self.description = description
        self.source = source
        self.atPort = atPort
        self.iccidCommand = iccidCommand
        self.atInterface = atInterface
        self.baudRate = baudRate
        self.quirks = quirks
    }
}
