/// Everything the reader needs; the CLI maps `[modem]` of the configuration file onto it.
public struct ModemReaderSettings: Sendable {
    public var source: ModemSource
    /// Path of `mmcli`; nil searches PATH.
    public var mmcliPath: String?
    /// Serial AT port; nil takes the board profile's.
    public var atPort: String?
    /// Vendor ICCID command (`AT+QCCID`); nil takes the board profile's, else one chosen from `AT+CGMI`.
    public var iccidCommand: String?
    public var board: BoardProfile?
    public var staticICCID: String?
    public var staticIMEI: String?
    public var staticIMSI: String?
    /// One mmcli call, or one AT command.
    public var timeout: Duration
    /// AT: how often a busy SIM (`+CME ERROR: 14`, `+CPIN: NOT READY`) is asked again.
    public var simBusyRetries: Int
    /// AT: first wait after a busy SIM; doubled each time, capped at 8× (see `ATSource.backoff`).
    public var simBusyBackoff: Duration
    public var baudRate: Int

    public init(
        source: ModemSource = .auto, mmcliPath: String? = nil, atPort: String? = nil, iccidCommand: String? = nil,
        board: BoardProfile? = nil, staticICCID: String? = nil, staticIMEI: String? = nil, staticIMSI: String? = nil,
        timeout: Duration = .seconds(10), simBusyRetries: Int = 5, simBusyBackoff: Duration = .milliseconds(500),
        baudRate: Int = 115_200
    ) {
        self.source = source
        self.mmcliPath = mmcliPath
        self.atPort = atPort
        self.iccidCommand = iccidCommand
        self.board = board
        self.staticICCID = staticICCID
        self.staticIMEI = staticIMEI
        self.staticIMSI = staticIMSI
        self.timeout = timeout
        self.simBusyRetries = simBusyRetries
        self.simBusyBackoff = simBusyBackoff
        self.baudRate = baudRate
    }

    public var effectiveATPort: String? { atPort ?? board?.atPort }
    public var effectiveICCIDCommand: String? { iccidCommand ?? board?.iccidCommand }
}
