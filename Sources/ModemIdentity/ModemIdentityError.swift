/// Why the identity could not be read. Every description says what is wrong and what a field
/// engineer should do next.
public enum ModemIdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// ModemManager runs but lists no modem, or no modem answered.
    case noModemFound(detail: String)
    /// `mmcli` says: couldn't find the ModemManager process in the bus.
    case modemManagerNotRunning
    /// No `mmcli` executable at the configured path or on PATH.
    case mmcliNotFound(searched: String)
    case simNotInserted(location: String)
    case simPINRequired(location: String)
    case simPUKRequired(location: String)
    /// The SIM stayed busy (initialising) through every retry.
    case simBusy(location: String)
    case simFailure(location: String, detail: String)
    /// ModemManager holds the AT port open; writing to it would corrupt both sides.
    case portOwnedByModemManager(port: String, pid: Int32)
    /// Another process holds the port's exclusive lock.
    case portBusy(port: String)
    /// open(2) gave EACCES/EPERM: the user is not in the `dialout` group.
    case portPermissionDenied(port: String)
    case portNotFound(port: String)
    /// Source `at` (or `auto` without ModemManager) needs `[modem] at_port` or a board profile.
    case noATPortConfigured
    /// Source `static` needs `[modem] iccid`.
    case noStaticIdentity
    case invalidStaticValue(field: String, value: String, reason: String)
    /// A command (mmcli, or one AT command) did not finish in time.
    case timeout(command: String, seconds: Double)
    /// An AT command ended in `ERROR` or a `+CME ERROR` that is not about the SIM.
    case commandFailed(command: String, detail: String)
    /// Output that does not have the expected shape.
    case unparseable(what: String, detail: String)
    /// mmcli (or another helper) exited with an error we do not recognise.
    case processFailed(command: String, status: Int32, stderr: String)
    case ioError(operation: String, errno: Int32)
    case boardNotFound(name: String, searched: [String])
    case invalidBoardProfile(path: String, detail: String)
    /// Source `auto`: every source failed; each failure is listed in order.
    case allSourcesFailed([SourceFailure])

    public var description: String {
        switch self {
        case .noModemFound(let detail):
            return "no modem found (\(detail)); check that the modem is powered and enumerated "
                + "(`lsusb`, `ls /dev/ttyUSB* /dev/cdc-wdm*`) and that ModemManager lists it (`mmcli -L`)"
        case .modemManagerNotRunning:
            return "ModemManager is not running; start it (`systemctl start ModemManager`) or set "
                + "[modem] source = \"at\" with at_port"
        case .mmcliNotFound(let searched):
            return "mmcli not found (searched \(searched)); install ModemManager (`apt install modemmanager`) "
                + "or set [modem] mmcli to its path"
        case .simNotInserted(let location):
            return "no SIM card in the modem at \(location); insert the SIM (power off first) and check the tray "
                + "and the SIM slot selection"
        case .simPINRequired(let location):
            return "the SIM in \(location) asks for its PIN; disable the PIN lock on the card "
                + "(or unlock it: `mmcli -i any --pin=NNNN`)"
        case .simPUKRequired(let location):
            return "the SIM in \(location) is PUK-locked after wrong PINs; unlock it with the PUK from the SIM "
                + "owner, or replace the SIM"
        case .simBusy(let location):
            return "the SIM in \(location) stayed busy (still initialising); wait a minute and retry, or "
                + "power-cycle the modem"
        case .simFailure(let location, let detail):
            return "the SIM in \(location) failed (\(detail)); reseat the card, clean its contacts or replace it"
        case .portOwnedByModemManager(let port, let pid):
            return "\(port) is held by ModemManager (pid \(pid)); use [modem] source = \"modemmanager\", or stop "
                + "ModemManager before using AT commands"
        case .portBusy(let port):
            return "\(port) is locked by another process; find it with `fuser \(port)` and stop it"
        case .portPermissionDenied(let port):
            return "permission denied opening \(port); add the service user to the dialout group "
                + "(`usermod -aG dialout <user>`) and restart the service"
        case .portNotFound(let port):
            return "\(port) does not exist; check the modem is enumerated (`ls /dev/ttyUSB*`) and the at_port "
                + "setting or board profile"
        case .noATPortConfigured:
            return "no AT port configured; set [modem] at_port (e.g. /dev/ttyUSB2) or [modem] board"
        case .noStaticIdentity:
            return "no static identity configured; set [modem] iccid"
        case .invalidStaticValue(let field, let value, let reason):
            return "[modem] \(field) = \"\(value)\" is invalid (\(reason)); fix the configuration file"
        case .timeout(let command, let seconds):
            return "\(command) did not answer within \(Self.format(seconds)) s; check the modem is responsive "
                + "(`mmcli -L`, or the right AT port) or raise [modem] timeout"
        case .commandFailed(let command, let detail):
            return "\(command) failed: \(detail); check the board profile's iccid_command for this modem"
        case .unparseable(let what, let detail):
            return "could not parse \(what): \(detail); please report it with the modem model and firmware"
        case .processFailed(let command, let status, let stderr):
            let text = stderr.isEmpty ? "" : ": \(stderr)"
            return "\(command) exited with status \(status)\(text); run it by hand to see the problem"
        case .ioError(let operation, let errno):
            return "\(operation) failed (errno \(errno)); check the modem is still connected"
        case .boardNotFound(let name, let searched):
            return "board profile '\(name)' not found in \(searched.joined(separator: ", ")); "
                + "list the available names in those directories"
        case .invalidBoardProfile(let path, let detail):
            return "board profile \(path) is invalid: \(detail); fix the file"
        case .allSourcesFailed(let failures):
            let parts = failures.map { "\($0.source): \($0.error)" }
            return "identity could not be read from any source: " + parts.joined(separator: "; ")
        }
    }

    /// The failure a field engineer should look at first: for `.allSourcesFailed`, the first one that
    /// is not merely "this source is not set up"; otherwise `self`.
    public var mostRelevant: ModemIdentityError {
        guard case .allSourcesFailed(let failures) = self else { return self }
        let specific = failures.first { !$0.error.isNotConfigured }
        return specific?.error ?? failures.first?.error ?? self
    }

    /// True for "this source is not available here" (as opposed to "it is there and failed").
    public var isNotConfigured: Bool {
        switch self {
        case .modemManagerNotRunning, .mmcliNotFound, .noATPortConfigured, .noStaticIdentity: return true
        default: return false
        }
    }

    private static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// One source's failure in `ModemIdentityError.allSourcesFailed`.
public struct SourceFailure: Sendable, Equatable {
    public var source: ModemSource
    public var error: ModemIdentityError

    public init(source: ModemSource, error: ModemIdentityError) {
        self.source = source
        self.error = error
    }
}

/// A pure parser's failure: the input does not have the expected shape.
public enum ModemParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case invalidJSON(String)
    case missingField(String)
    case invalidICCID(String, reason: String)
    case invalidIMEI(String)
    case invalidIMSI(String)
    case unrecognised(String)

    public var description: String {
        switch self {
        case .empty: return "empty output"
        case .invalidJSON(let detail): return "not the expected JSON (\(detail))"
        case .missingField(let field): return "field \(field) missing"
        case .invalidICCID(let text, let reason): return "'\(text)' is not an ICCID (\(reason))"
        case .invalidIMEI(let text): return "'\(text)' is not an IMEI (15 digits)"
        case .invalidIMSI(let text): return "'\(text)' is not an IMSI (5 to 15 digits)"
        case .unrecognised(let text): return "unrecognised output '\(text.prefix(80))'"
        }
    }
}
