import EdgeCommon
import EdgeConfig
import Logging
import ModemIdentity

extension CommandContext {
    /// The modem reader as `[modem]` configures it; `source` overrides the configured source.
    func modemReader(source override: ModemSource? = nil, board boardName: String? = nil) throws -> ModemIdentityReader {
        let modem = configuration.modem
        var board: BoardProfile?
        if let name = boardName ?? modem.board {
            do {
                board = try BoardProfile.load(named: name)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        let settings = ModemReaderSettings(
            source: override ?? ModemSource(rawValue: modem.source.rawValue) ?? .auto, mmcliPath: modem.mmcli,
            atPort: modem.atPort, iccidCommand: modem.iccidCommand, board: board, staticICCID: modem.iccid,
            staticIMEI: modem.imei, staticIMSI: modem.imsi, timeout: modem.timeout)
        return ModemIdentityReader(settings: settings, logger: Logger(label: "emnify-edge.modem"))
    }

    /// The ICCID of the SIM this gateway runs on, from the modem (or `[modem] iccid`).
    func readICCID() async throws -> ICCID {
        let reader = try modemReader()
        let report: ModemIdentityReport
        do {
            report = try await reader.read()
        } catch {
            throw CommandFailure("cannot read the SIM's identity: \(error.mostRelevant)")
        }
        guard let iccid = report.iccid else {
            throw CommandFailure("the modem reported no ICCID (source \(report.source.rawValue)); run 'emnify-edge identity' for details")
        }
        return iccid
    }
}
