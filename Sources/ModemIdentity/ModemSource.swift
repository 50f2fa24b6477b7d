/// Where the identity comes from (`[modem] source`).
public enum ModemSource: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// ModemManager, then AT commands, then the static values, in that order.
    case auto
    /// `mmcli -J`: the normal case on a gateway that runs ModemManager.
    case modemManager = "modemmanager"
    /// AT commands on a serial port, only when ModemManager does not own it.
    case at
    /// `[modem] iccid`/`imei`/`imsi` from the configuration file.
    case `static`

    public var description: String { rawValue }
}
