import EdgeCommon
import Logging

/// Reads the modem's identity from the configured source, or (`auto`) from ModemManager, then AT,
/// then the static values, noting in the report why each earlier source failed.
public struct ModemIdentityReader: Sendable {
    public var settings: ModemReaderSettings
    public var logger: Logger

    public init(settings: ModemReaderSettings, logger: Logger = Logger(label: "emnify-edge.modem")) {
        self.settings = settings
        self.logger = logger
    }

    /// Runs `readBlocking()` on the shared blocking executor (mmcli and the serial port block), off
    /// Swift's cooperative thread pool.
    public func read() async throws(ModemIdentityError) -> ModemIdentityReport {
        let reader = self
        return try await BlockingExecutor.shared.run { () throws(ModemIdentityError) -> ModemIdentityReport in
            try reader.readBlocking()
        }
    }

    /// Synchronous: blocks for up to a few timeouts. Do not call it from the cooperative pool.
    public func readBlocking() throws(ModemIdentityError) -> ModemIdentityReport {
        let source = settings.source == .auto ? (settings.board?.source ?? .auto) : settings.source
        switch source {
        case .modemManager: return try readModemManager()
        case .at: return try readAT()
        case .static: return try readStatic()
        case .auto: break
        }
        var failures: [SourceFailure] = []
        let attempts: [(ModemSource, () throws(ModemIdentityError) -> ModemIdentityReport)] = [
            (.modemManager, readModemManager), (.at, readAT), (.static, readStatic),
        ]
        for (candidate, attempt) in attempts {
            do throws(ModemIdentityError) {
                var report = try attempt()
                report.notes = failures.map { "\($0.source) skipped: \($0.error)" } + report.notes
                return report
            } catch {
                logger.debug("identity source failed", metadata: ["source": "\(candidate)", "error": "\(error)"])
                failures.append(SourceFailure(source: candidate, error: error))
            }
        }
        throw .allSourcesFailed(failures)
    }

    func readModemManager() throws(ModemIdentityError) -> ModemIdentityReport {
        try ModemManagerSource(mmcli: settings.mmcliPath, timeout: settings.timeout, logger: logger).read()
    }

    func readAT() throws(ModemIdentityError) -> ModemIdentityReport {
        var settings = settings
        if let baud = settings.board?.baudRate { settings.baudRate = baud }
        return try ATSource(settings: settings, logger: logger).read()
    }

    func readStatic() throws(ModemIdentityError) -> ModemIdentityReport {
        guard let raw = settings.staticICCID, !raw.isEmpty else { throw .noStaticIdentity }
        let iccid: ICCID
        do { iccid = try Identifiers.iccid(raw) } catch {
            throw .invalidStaticValue(field: "iccid", value: raw, reason: error.description)
        }
        var imei: String?
        if let value = settings.staticIMEI {
            do { imei = try Identifiers.imei(value) } catch {
                throw .invalidStaticValue(field: "imei", value: value, reason: error.description)
            }
        }
        var imsi: String?
        if let value = settings.staticIMSI {
            do { imsi = try Identifiers.imsi(value) } catch {
                throw .invalidStaticValue(field: "imsi", value: value, reason: error.description)
            }
        }
        return ModemIdentityReport(
            source: .static, location: "configuration", imei: imei, iccid: iccid, iccidAsRead: raw, imsi: imsi)
    }
}
