import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import EdgeRuntime
import ModemIdentity

/// 3. The modem: identity readable (with its source), SIM present and ready, registration,
/// operator, access technology and signal.
struct ModemCheck: DiagnosticCheck {
    let id = "modem"
    let title = "Modem"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        let reader: ModemIdentityReader
        do {
            reader = try session.parts.modemReader()
        } catch {
            session.modemProblem = "\(error)"
            return .fail("cannot set up the modem reader: \(error)", next: "check [modem] in the configuration")
        }
        let report: ModemIdentityReport
        do {
            report = try await reader.read()
        } catch {
            let problem = error.mostRelevant
            session.modemProblem = "\(problem)"
            return .fail(
                "the modem's identity cannot be read (source \(reader.settings.source.rawValue)): \(problem)",
                next: Self.nextStep(for: problem),
                details: ["source": reader.settings.source.rawValue])
        }
        session.modemReport = report
        var details = ["source": report.source.rawValue]
        details["location"] = report.location
        details["iccid"] = report.iccid?.normalized
        details["imei"] = report.imei
        details["model"] = [report.manufacturer, report.model].compactMap { $0 }.joined(separator: " ").nilIfEmpty
        details["sim_state"] = report.simState?.rawValue
        details["registration"] = report.registration?.rawValue
        details["operator"] =
            [report.operatorName, report.operatorCode.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            .nilIfEmpty
        details["access_technology"] = report.accessTechnologies.joined(separator: ",").nilIfEmpty
        details["signal_percent"] = report.signalPercent.map(String.init)
        details["rssi_dbm"] = report.rssiDBm.map(String.init)

        guard let iccid = report.iccid else {
            return .fail(
                "the modem (source \(report.source.rawValue)) reported no ICCID", next: "check that a SIM is inserted",
                details: details)
        }
        if let state = report.simState, state != .ready {
            return .fail(
                "SIM \(iccid) is \(state.rawValue)", next: Self.simNextStep(state), details: details)
        }
        if report.source == .static {
            return .pass(
                "identity from the configuration (source static): ICCID \(iccid); radio state not read",
                details: details)
        }
        let radio = [
            report.registration.map { "registration \($0.rawValue)" }, report.operatorName.map { "on \($0)" },
            report.accessTechnologies.isEmpty ? nil : report.accessTechnologies.joined(separator: "/"),
            report.signalPercent.map { "signal \($0) %" },
        ].compactMap { $0 }.joined(separator: ", ")
        let summary = "ICCID \(iccid) from \(report.source.rawValue)" + (radio.isEmpty ? "" : "; \(radio)")
        if let registration = report.registration, !registration.isRegistered {
            return .warn(
                summary,
                next: registration == .denied
                    ? "the network denied registration: check the SIM's service profile and tariff in the emnify Portal"
                    : "the modem is not registered: check the antenna and coverage, then 'mmcli -m any --3gpp-scan'",
                details: details)
        }
        if let signal = report.signalPercent, signal < 10 {
            return .warn(summary, next: "the signal is very weak: check the antenna and its cable", details: details)
        }
        return .pass(summary, details: details)
    }

    static func nextStep(for error: ModemIdentityError) -> String {
        switch error {
        case .mmcliNotFound, .modemManagerNotRunning:
            return
                "install and start ModemManager (systemctl enable --now ModemManager), or set [modem] source = \"at\" with at_port"
        case .noModemFound:
            return "check that the modem is powered and enumerated (lsusb, 'mmcli -L'), and its USB cable"
        case .simNotInserted, .simPINRequired, .simPUKRequired, .simBusy, .simFailure:
            return "check the SIM card: seated, not PIN-locked ('mmcli -i any')"
        case .portOwnedByModemManager, .portBusy, .portPermissionDenied, .portNotFound, .noATPortConfigured:
            return "check [modem] at_port and that the service user is in the dialout group"
        default:
            return "run 'emnify-edge identity --verbose' for the details of each source"
        }
    }

    static func simNextStep(_ state: SIMState) -> String {
        switch state {
        case .notInserted: return "insert the SIM card (power the modem down first)"
        case .pinRequired: return "disable the SIM PIN or unlock it: mmcli -i any --pin=XXXX"
        case .pukRequired: return "the SIM is PUK-locked: unlock it with the PUK from the emnify Portal"
        case .busy: return "the SIM is still initialising: run diagnose again in a minute"
        default: return "reseat or replace the SIM card"
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
