import EdgeCommon
#if canImport(Glibc)
    import Glibc
#endif
import Logging

/// Reads identity with AT commands on a serial port ModemManager does not hold. Blocking.
struct ATSource {
    var settings: ModemReaderSettings
    var logger: Logger
    /// Where to look for ModemManager holding the port (tests point it elsewhere).
    var procRoot = "/proc"

    func read() throws(ModemIdentityError) -> ModemIdentityReport {
        guard let port = settings.effectiveATPort else { throw .noATPortConfigured }
        if let pid = PortOwnership.modemManagerHolding(port, procRoot: procRoot) {
            throw .portOwnedByModemManager(port: port, pid: pid)
        }
        let serial = try SerialPort(path: port, baudRate: settings.baudRate)
        var session = ATSession(port: serial, timeout: settings.timeout, logger: logger)
        var facts = ATFacts()

        // Synchronise (a boot burst may still be arriving), echo off, numeric CME errors.
        var synced = false
        for _ in 0..<3 where !synced {
            if let exchange = try? session.send("AT"), exchange.final == .ok { synced = true }
        }
        guard synced else { throw .timeout(command: "AT on \(port)", seconds: settings.timeout.seconds) }
        _ = try? session.send("ATE0")
        _ = try? session.send("AT+CMEE=1")

        // SIM state first: a missing or locked SIM makes every later answer an error.
        let cpin = try withSIMRetry(port) { () throws(ModemIdentityError) in try session.send("AT+CPIN?") }
        facts.absorb(cpin)
        try check(facts.simState, port: port)

        for command in ["AT+CGMI", "AT+CGMM", "AT+CGMR"] {
            if let exchange = try? session.send(command), exchange.final == .ok { facts.absorb(exchange) }
        }
        // IMEI: AT+CGSN, else AT+GSN.
        for command in ["AT+CGSN", "AT+GSN"] where facts.imei == nil {
            facts.absorb(try session.send(command))
        }
        guard facts.imei != nil else {
            throw .unparseable(what: "IMEI from \(port)", detail: facts.problems.last?.problem ?? "no answer")
        }
        // ICCID: the vendor's command, then the generic READ BINARY of EF_ICCID.
        var lastICCIDProblem: ModemIdentityError?
        for command in iccidCommands(manufacturer: facts.manufacturer) where facts.iccid == nil {
            do throws(ModemIdentityError) {
                let exchange = try withSIMRetry(port) { () throws(ModemIdentityError) in try session.send(command) }
                facts.absorb(exchange)
                if let final = exchange.final, final != .ok {
                    try check(final.simState, port: port)
                    lastICCIDProblem = .commandFailed(command: command, detail: "\(final)")
                }
            } catch {
                if case .timeout = error { lastICCIDProblem = error } else { throw error }
            }
        }
        guard let iccid = facts.iccid else {
            throw lastICCIDProblem ?? .unparseable(what: "ICCID from \(port)", detail: "no ICCID in any answer")
        }
        let cimi = try withSIMRetry(port) { () throws(ModemIdentityError) in try session.send("AT+CIMI") }
        facts.absorb(cimi)
        if let final = cimi.final, final != .ok { try check(final.simState, port: port) }

        // Network: best effort, a failure here does not lose the identity.
        var notes: [String] = []
        for command in ["AT+COPS=3,2;+COPS?", "AT+COPS=3,0;+COPS?", "AT+CEREG?", "AT+CREG?", "AT+CSQ"] {
            do throws(ModemIdentityError) { facts.absorb(try session.send(command)) } catch {
                notes.append("\(command): \(error)")
            }
        }
        return ModemIdentityReport(
            source: .at, location: port, manufacturer: facts.manufacturer, model: facts.model,
            firmware: facts.firmware, imei: facts.imei, iccid: iccid, iccidAsRead: facts.iccidAsRead,
            imsi: facts.imsi, operatorCode: facts.operatorCode, operatorName: facts.operatorName,
            registration: facts.registration, accessTechnologies: facts.accessTechnologies,
            signalPercent: facts.signal?.percent, rssiDBm: facts.signal?.dBm, simState: .ready, notes: notes
        )
    }

    /// The configured command, else the vendor's from `AT+CGMI`, then `AT+CRSM=176,12258,0,0,10`.
    func iccidCommands(manufacturer: String?) -> [String] {
        var commands: [String] = []
        if let configured = settings.effectiveICCIDCommand {
            commands.append(configured)
        } else {
            let vendor = (manufacturer ?? "").lowercased()
            if vendor.contains("quectel") {
                commands.append("AT+QCCID")
            } else if vendor.contains("simcom") {
                commands.append("AT+CICCID")
            } else if vendor.contains("sierra") {
                commands.append("AT!ICCID?")
            } else if vendor.contains("telit") {
                commands.append("AT#CCID")
            } else if vendor.contains("u-blox") || vendor.contains("ublox") {
                commands.append("AT+CCID")
            } else {
                commands.append("AT+CCID")
            }
        }
        let generic = "AT+CRSM=176,12258,0,0,10"
        if !commands.contains(generic) { commands.append(generic) }
        return commands
    }

    /// Backoff for a busy SIM: base `simBusyBackoff`, factor 2, cap 8× base, no jitter (one modem,
    /// one reader). With the defaults (500 ms, 5 retries): 0.5, 1, 2, 4, 4 s → about 11.5 s in total,
    /// which covers a SIM's initialisation after power-up.
    func backoff(attempt: Int) -> Duration {
        let factor = min(1 << min(attempt, 3), 8)
        return settings.simBusyBackoff * factor
    }

    /// Runs `body` again while the SIM answers busy.
    private func withSIMRetry(_ port: String, _ body: () throws(ModemIdentityError) -> ATExchange)
        throws(ModemIdentityError) -> ATExchange
    {
        var attempt = 0
        while true {
            let exchange = try body()
            var facts = ATFacts()
            facts.absorb(exchange)
            let busy = exchange.final?.simState == .busy || (exchange.final == .ok && facts.simState == .busy)
            guard busy else { return exchange }
            guard attempt < settings.simBusyRetries else { throw .simBusy(location: port) }
            let wait = backoff(attempt: attempt)
            logger.info("SIM busy, retrying", metadata: ["port": "\(port)", "wait": "\(wait)"])
            usleep(UInt32(wait.wholeMicroseconds))
            attempt += 1
        }
    }

    private func check(_ state: SIMState?, port: String) throws(ModemIdentityError) {
        switch state {
        case .notInserted: throw .simNotInserted(location: port)
        case .pinRequired: throw .simPINRequired(location: port)
        case .pukRequired: throw .simPUKRequired(location: port)
        case .busy: throw .simBusy(location: port)
        case .failure: throw .simFailure(location: port, detail: "the modem reports a SIM failure")
        case .ready, .unknown, nil: return
        }
    }
}

/// Sends one command at a time and collects lines up to the final result, skipping the echo.
/// URCs that arrive between commands are drained and logged; those inside an answer are left to the
/// answer parsers, which validate shapes.
struct ATSession {
    let port: SerialPort
    let timeout: Duration
    let logger: Logger

    mutating func send(_ command: String) throws(ModemIdentityError) -> ATExchange {
        for urc in try port.drain() {
            logger.debug("URC", metadata: ["line": "\(urc)"])
        }
        try port.write(command + "\r")
        let deadline = Deadline(after: timeout)
        var exchange = ATExchange(command: command, lines: [], final: nil)
        while let line = try port.readLine(until: deadline) {
            if exchange.lines.isEmpty, line.caseInsensitiveEquals(command) { continue }  // echo
            if let final = ATFinalResult(line: line) {
                exchange.final = final
                return exchange
            }
            exchange.lines.append(line)
        }
        throw .timeout(command: "\(command) on \(port.path)", seconds: timeout.seconds)
    }
}
