import EdgeCommon
import Foundation
import Synchronization
import Testing

@testable import ModemIdentity

/// A simulated modem on a pseudo-terminal: echo on until ATE0, a boot burst of URCs, URCs
/// interleaved with answers, scripted SIM behaviour.
final class ModemSimulator: Sendable {
    let master: Int32
    let slavePath: String
    let stop = Atomic<Bool>(false)
    let answer: @Sendable (String, Int) -> [String]?

    init(answer: @escaping @Sendable (String, Int) -> [String]?) throws {
        // posix_openpt/grantpt/unlockpt/ptsname are not exported by Swift's Glibc module; on Linux they
        // are exactly: open /dev/ptmx, TIOCSPTLCK 0 (unlock), TIOCGPTN (number); grantpt is a no-op on devpts.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431 /* TIOCSPTLCK */, &unlock) == 0,
            ioctl(master, 0x8004_5430 /* TIOCGPTN */, &number) == 0
        else { throw POSIXError(.EIO) }
        slavePath = "/dev/pts/\(number)"
        self.answer = answer
        Thread.detachNewThread { [self] in run() }
    }

    private func run() {
        var buffer: [UInt8] = []
        var echo = true
        var counts: [String: Int] = [:]
        var booted = false
        while !stop.load(ordering: .relaxed) {
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 20) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 256)
            let n = read(master, &chunk, chunk.count)
            if n <= 0 { usleep(5000); continue }
            buffer += chunk[0..<n]
            while let cr = buffer.firstIndex(of: 0x0D) {
                let command = String(decoding: buffer[..<cr], as: UTF8.self)
                buffer.removeSubrange(...cr)
                var out: [String] = []
                if !booted {
                    booted = true
                    out += ["RDY", "+CPIN: READY", "+QUSIM: 1", "+CFUN: 1", "+QIND: PB DONE"]
                }
                if echo { out.append(command) }
                if command == "ATE0" { echo = false }
                let count = counts[command, default: 0]
                counts[command] = count + 1
                guard let reply = answer(command, count) else { write(out); continue }  // never answers
                write(out + reply)
            }
        }
        close(master)
    }

    private func write(_ lines: [String]) {
        let text = lines.map { "\r\n\($0)\r\n" }.joined()
        _ = text.withCString { Glibc.write(master, $0, strlen($0)) }
    }

    func shutdown() { stop.store(true, ordering: .relaxed) }
}

@Suite(.serialized) struct ATPseudoTerminalTests {
    static func quectel(cpin: @escaping @Sendable (Int) -> [String], cimiAnswers: Bool = true)
        -> @Sendable (String, Int) -> [String]?
    {
        { command, count in
            switch command {
            case "AT+CPIN?": return cpin(count)
            case "AT+CGMI": return ["Quectel", "OK"]
            case "AT+CGMM": return ["EC25", "OK"]
            case "AT+CGMR": return ["EC25EFAR06A06M4G", "OK"]
            case "AT+CGSN": return ["+QIND: SMS DONE", "865326061591809", "OK"]
            case "AT+QCCID": return ["+QCCID: 8944476500008878576F", "OK"]
            case "AT+CIMI": return cimiAnswers ? ["+CCLK: \"24/01/18,08:32:36+28\"", "204083265908345", "OK"] : nil
            case "AT+COPS=3,2;+COPS?": return ["+COPS: 0,2,\"20408\",7", "OK"]
            case "AT+COPS=3,0;+COPS?": return ["+COPS: 0,0,\"KPN\",7", "OK"]
            case "AT+CEREG?": return ["+CEREG: 5,\"3193\",\"08F381C5\",7", "+CEREG: 2,5,\"3193\",\"08F381C5\",7", "OK"]
            case "AT+CREG?": return ["+CREG: 0,5", "OK"]
            case "AT+CSQ": return ["+CSQ: 20,99", "OK"]
            default: return ["OK"]
            }
        }
    }

    func settings(_ port: String) -> ModemReaderSettings {
        ModemReaderSettings(
            source: .at, atPort: port, timeout: .milliseconds(500), simBusyRetries: 3, simBusyBackoff: .milliseconds(20)
        )
    }

    @Test func readsIdentityThroughBootBurstURCsAndBusySIM() async throws {
        let modem = try ModemSimulator(
            answer: Self.quectel(cpin: { $0 < 2 ? ["+CME ERROR: 14"] : ["+CPIN: READY", "OK"] }))
        defer { modem.shutdown() }
        let report = try await ModemIdentityReader(settings: settings(modem.slavePath)).read()
        #expect(report.source == .at && report.location == modem.slavePath)
        #expect(report.manufacturer == "Quectel" && report.model == "EC25")
        #expect(report.imei == "865326061591809")
        #expect(report.iccid?.normalized == "8944476500008878576" && report.iccidAsRead == "8944476500008878576F")
        #expect(report.imsi == "204083265908345")
        #expect(report.operatorCode == "20408" && report.operatorName == "KPN")
        #expect(report.registration == .roaming && report.accessTechnologies == ["lte"])
        #expect(report.signalPercent == 64 && report.rssiDBm == -73)
    }

    @Test func missingSIM() async throws {
        let modem = try ModemSimulator(answer: Self.quectel(cpin: { _ in ["+CME ERROR: 10"] }))
        defer { modem.shutdown() }
        await #expect(throws: ModemIdentityError.simNotInserted(location: modem.slavePath)) {
            try await ModemIdentityReader(settings: settings(modem.slavePath)).read()
        }
    }

    @Test func simBusyForever() async throws {
        let modem = try ModemSimulator(answer: Self.quectel(cpin: { _ in ["+CME ERROR: 14"] }))
        defer { modem.shutdown() }
        await #expect(throws: ModemIdentityError.simBusy(location: modem.slavePath)) {
            try await ModemIdentityReader(settings: settings(modem.slavePath)).read()
        }
    }

    @Test func commandThatNeverAnswersTimesOut() async throws {
        let modem = try ModemSimulator(
            answer: Self.quectel(cpin: { _ in ["+CPIN: READY", "OK"] }, cimiAnswers: false))
        defer { modem.shutdown() }
        let start = ContinuousClock.now
        await #expect(throws: ModemIdentityError.timeout(command: "AT+CIMI on \(modem.slavePath)", seconds: 0.5)) {
            try await ModemIdentityReader(settings: settings(modem.slavePath)).read()
        }
        #expect(ContinuousClock.now - start < .seconds(20), "not left waiting on the silent modem")
    }
}

extension ATPseudoTerminalTests {
    /// A port the service user may not open names the fix (the dialout group). As root the
    /// test drops to `nobody`'s filesystem rights on this thread (`setfsuid`), so it runs for real.
    @Test func aPortWithoutPermissionSaysDialout() throws {
        let modem = try ModemSimulator(answer: Self.quectel(cpin: { _ in ["+CPIN: READY", "OK"] }))
        defer { modem.shutdown() }
        chmod(modem.slavePath, 0o600)
        typealias SetFSUID = @convention(c) (UInt32) -> Int32
        let setfsuid = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "setfsuid")!, to: SetFSUID.self)
        let previous = geteuid() == 0 ? setfsuid(65534) : -1
        defer { if previous >= 0 { _ = setfsuid(UInt32(previous)) } }
        do {
            _ = try ModemIdentityReader(settings: settings(modem.slavePath)).readBlocking()
            Issue.record("the port was opened without permission")
        } catch {
            #expect(error == .portPermissionDenied(port: modem.slavePath))
            #expect(error.description.contains("dialout"))
        }
    }
}
