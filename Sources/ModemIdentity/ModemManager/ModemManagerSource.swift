import EdgeCommon
import EdgeProcess
import Logging

/// Reads identity through `mmcli -J`: `-L` lists modems, `-m <path>` the modem, `-i <sim-path>` the SIM.
/// Object paths are followed as mmcli gives them (the index is not always 0). Blocking.
struct ModemManagerSource {
    var mmcli: String?
    var timeout: Duration
    var logger: Logger

    func read() throws(ModemIdentityError) -> ModemIdentityReport {
        guard let executable = ProcessRunner.find(mmcli ?? "mmcli") else {
            throw .mmcliNotFound(searched: mmcli ?? "PATH")
        }
        let listOutput = try run(executable, ["-L", "-J"])
        let paths: [String]
        do { paths = try MMCLIJSON.modemList(listOutput.stdout) } catch {
            throw .unparseable(what: "mmcli -L -J", detail: error.description)
        }
        guard !paths.isEmpty else { throw .noModemFound(detail: "ModemManager lists no modem") }

        // One physical modem can appear twice (USB + PCIe): skip repeated IMEIs; prefer one with a SIM.
        var firstFailure: ModemIdentityError?
        var seenIMEIs: Set<String> = []
        for path in paths {
            do throws(ModemIdentityError) {
                let modem = try modemInfo(executable, path)
                if let imei = modem.bestIMEI {
                    guard seenIMEIs.insert(imei).inserted else { continue }
                }
                return try report(executable, path: path, modem: modem)
            } catch {
                logger.debug("modem not usable", metadata: ["path": "\(path)", "error": "\(error)"])
                firstFailure = firstFailure ?? error
            }
        }
        throw firstFailure ?? .noModemFound(detail: "no usable modem")
    }

    private func modemInfo(_ executable: String, _ path: String) throws(ModemIdentityError) -> MMModemInfo {
        let output = try run(executable, ["-m", path, "-J"])
        do { return try MMCLIJSON.modem(output.stdout) } catch {
            throw .unparseable(what: "mmcli -m \(path) -J", detail: error.description)
        }
    }

    private func report(_ executable: String, path: String, modem: MMModemInfo) throws(ModemIdentityError)
        -> ModemIdentityReport
    {
        let location = modem.path ?? path
        switch modem.simState {
        case .notInserted: throw .simNotInserted(location: location)
        case .pinRequired: throw .simPINRequired(location: location)
        case .pukRequired: throw .simPUKRequired(location: location)
        case .failure: throw .simFailure(location: location, detail: modem.stateFailedReason ?? "sim error")
        case .ready, .busy, .unknown: break
        }
        guard let simPath = modem.simPath else { throw .simNotInserted(location: location) }
        let simOutput = try run(executable, ["-i", simPath, "-J"])
        let sim: MMSIMInfo
        do { sim = try MMCLIJSON.sim(simOutput.stdout) } catch {
            throw .unparseable(what: "mmcli -i \(simPath) -J", detail: error.description)
        }
        guard let rawICCID = sim.iccid else { throw .simBusy(location: location) }
        let iccid: ICCID
        do { iccid = try Identifiers.iccid(rawICCID) } catch {
            throw .unparseable(what: "ICCID from ModemManager", detail: error.description)
        }
        return ModemIdentityReport(
            source: .modemManager, location: location, simPath: sim.path ?? simPath,
            manufacturer: modem.manufacturer, model: modem.model, firmware: modem.firmware,
            imei: modem.bestIMEI, iccid: iccid, iccidAsRead: rawICCID,
            imsi: sim.imsi.flatMap { try? Identifiers.imsi($0) },
            operatorCode: modem.operatorCode, operatorName: modem.operatorName,
            registration: modem.registrationState.flatMap(RegistrationState.init(rawValue:)),
            accessTechnologies: modem.accessTechnologies, signalPercent: modem.signalPercent,
            simState: .ready
        )
    }

    private func run(_ executable: String, _ arguments: [String]) throws(ModemIdentityError) -> ProcessOutput {
        let command = "mmcli " + arguments.joined(separator: " ")
        let output: ProcessOutput
        do {
            output = try ProcessRunner.run(executable: executable, arguments: arguments, timeout: timeout)
        } catch {
            switch error {
            case .timedOut: throw .timeout(command: command, seconds: timeout.seconds)
            case .spawnFailed(let code): throw .ioError(operation: "starting \(executable)", errno: code)
            }
        }
        guard output.status == 0 else {
            let text = output.stderrText
            if text.contains("couldn't find the ModemManager process") || text.contains("ModemManager is not running") {
                throw .modemManagerNotRunning
            }
            if text.contains("couldn't find modem") { throw .noModemFound(detail: text) }
            if text.contains("couldn't find SIM") {
                throw .simNotInserted(location: arguments.dropFirst().first ?? "?")
            }
            throw .processFailed(command: command, status: output.status, stderr: text)
        }
        return output
    }
}

extension ProcessOutput {
    var stderrText: String { String(decoding: stderr, as: UTF8.self).trimmingBlanks() }
}
