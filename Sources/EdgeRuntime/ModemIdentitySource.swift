import EdgeAgent
import ModemIdentity

/// The agent's identity port, read from the modem.
public struct ModemIdentitySource: IdentityProvider {
    let reader: ModemIdentityReader

    public init(reader: ModemIdentityReader) {
        self.reader = reader
    }

    public func readIdentity() async throws -> AgentIdentity {
        let report = try await reader.read()
        guard let iccid = report.iccid else {
            throw CommandFailure("the modem reported no ICCID (source \(report.source.rawValue))")
        }
        let location = report.location.map { " \($0)" } ?? ""
        return AgentIdentity(
            iccid: iccid, imei: report.imei, imsi: report.imsi, source: report.source.rawValue + location)
    }
}
