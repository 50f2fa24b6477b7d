import EdgeCommon
import EdgeConfig

extension CommandContext {
    /// The ICCID of the SIM this gateway runs on.
    func readICCID() async throws -> ICCID {
        guard let text = configuration.modem.iccid else {
            throw CommandFailure("no ICCID: set [modem] iccid in \(configPath)")
        }
        do {
            return try ICCID(parsing: text)
        } catch {
            throw CommandFailure("[modem] iccid: \(error)")
        }
    }
}
