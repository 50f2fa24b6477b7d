import EdgeCommon

/// Identity facts gathered from AT exchanges, by command. The live AT source and the transcript
/// parser share it.
public struct ATFacts: Sendable, Equatable {
    public var manufacturer: String?
    public var model: String?
    public var firmware: String?
    public var imei: String?
    public var iccid: ICCID?
    public var iccidAsRead: String?
    public var imsi: String?
    public var operatorCode: String?
    public var operatorName: String?
    public var registration: RegistrationState?
    public var accessTechnologies: [String] = []
    public var signal: ATAnswers.SignalQuality?
    public var simState: SIMState?
    /// Parse failures and error results, per command, in order.
    public var problems: [(command: String, problem: String)] = []

    public init() {}

    public static func == (lhs: ATFacts, rhs: ATFacts) -> Bool {
        lhs.imei == rhs.imei && lhs.iccid == rhs.iccid && lhs.imsi == rhs.imsi && lhs.manufacturer == rhs.manufacturer
            && lhs.model == rhs.model && lhs.firmware == rhs.firmware && lhs.operatorCode == rhs.operatorCode
            && lhs.operatorName == rhs.operatorName && lhs.registration == rhs.registration
            && lhs.accessTechnologies == rhs.accessTechnologies && lhs.signal == rhs.signal
            && lhs.simState == rhs.simState
    }

    /// Parses a whole captured transcript.
    public static func from(transcript text: String) -> ATFacts {
        var facts = ATFacts()
        for exchange in ATTranscript.exchanges(text) { facts.absorb(exchange) }
        return facts
    }

    /// Takes what `exchange` says. Later values replace earlier ones (a retried command wins), except that
    /// a failed parse never erases a value.
    public mutating func absorb(_ exchange: ATExchange) {
        if let final = exchange.final, final != .ok {
            if let state = final.simState { simState = state }
            problems.append((exchange.command, "\(final)"))
        }
        let parts = exchange.commandParts
        let lines = exchange.lines
        if exchange.command.isEmpty {
            // URCs only: the SIM state and a registration change are worth keeping.
            if let state = try? ATAnswers.cpin(lines), simState == nil { simState = state }
            return
        }
        for part in parts {
            switch part {
            case "+CGSN", "+GSN", "#CGSN", "+CGSN=1":
                do throws(ModemParseError) { imei = try ATAnswers.imei(lines) } catch { note(exchange, error) }
            case "I":
                let info = ATAnswers.ati(lines)
                manufacturer = info.manufacturer ?? manufacturer
                model = info.model ?? model
                firmware = info.revision ?? firmware
                imei = info.imei ?? imei
            case "+CGMI", "+GMI": manufacturer = ATAnswers.plainValue(lines) ?? manufacturer
            case "+CGMM", "+GMM": model = ATAnswers.plainValue(lines) ?? model
            case "+CGMR", "+GMR": firmware = ATAnswers.plainValue(lines) ?? firmware
            case "+CIMI", "#CIMI":
                do throws(ModemParseError) { imsi = try ATAnswers.imsi(lines) } catch { note(exchange, error) }
            case "+QCCID", "+CCID", "+CCID?", "+ICCID", "+CICCID", "^ICCID?", "!ICCID?", "#CCID", "+ICCID?":
                absorbICCID(exchange)
            case _ where part.hasPrefix("+CRSM=176,12258"):
                absorbICCID(exchange)
            case "+COPS?":
                if let op = try? ATAnswers.cops(lines) {
                    operatorCode = op.code ?? operatorCode
                    operatorName = op.name ?? operatorName
                    if !op.accessTechnologies.isEmpty { accessTechnologies = op.accessTechnologies }
                }
            case "+CREG?", "+CGREG?", "+CEREG?", "+C5GREG?":
                if let reg = try? ATAnswers.registration(lines) {
                    // Keep a registered state from one of the domains.
                    if registration?.isRegistered != true || reg.state?.isRegistered == true {
                        registration = reg.state
                    }
                    if !reg.accessTechnologies.isEmpty, accessTechnologies.isEmpty {
                        accessTechnologies = reg.accessTechnologies
                    }
                }
            case "+CSQ":
                if let csq = try? ATAnswers.csq(lines) { signal = csq }
            case "+CPIN?":
                if let state = try? ATAnswers.cpin(lines) { simState = state }
            default:
                continue
            }
        }
    }

    private mutating func absorbICCID(_ exchange: ATExchange) {
        do throws(ModemParseError) {
            let found = try ATAnswers.iccid(exchange.lines)
            iccid = found.iccid
            iccidAsRead = found.asRead
        } catch {
            if exchange.final == .ok || exchange.final == nil {
                problems.append((exchange.command, error.description))
            }
        }
    }

    private mutating func note(_ exchange: ATExchange, _ error: ModemParseError) {
        if exchange.final == .ok || exchange.final == nil {
            problems.append((exchange.command, error.description))
        }
    }
}
