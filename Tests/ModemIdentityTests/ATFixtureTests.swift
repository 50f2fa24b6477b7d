import EdgeCommon
import Testing

@testable import ModemIdentity

@Suite struct ATFixtureTests {
    func facts(_ name: String) throws -> ATFacts { ATFacts.from(transcript: try Fixtures.text(name)) }
    func lines(_ name: String) throws -> [String] { ATTranscript.cleanLines(try Fixtures.text(name)) }

    @Test func cregURCsThenSolicited() throws {
        let reg = try ATAnswers.registration(lines("at_creg-urc-interleaved_hologram-test.txt"))
        #expect(reg.state == .roaming)
        #expect(reg.accessTechnologies == ["hspa"])
    }

    @Test func fibocomChained() throws {
        let f = try facts("at_fibocom-fm150_csq-cpin-cops-creg_4iceg-pr32.txt")
        #expect(f.signal?.rssi == 17 && f.signal?.dBm == -79)
        #expect(f.simState == .ready)
        #expect(f.operatorName == "Telekom.de" && f.operatorCode == "26201")
        #expect(f.accessTechnologies == ["lte", "5gnr"])
        #expect(f.registration == .home)
    }

    @Test func luatAir720WithURCs() throws {
        let f = try facts("at_luat-air720_iccid-cimi-with-urcs_openluat-issue1.txt")
        #expect(f.imei == "866714043053668")
        #expect(f.iccid?.normalized == "898600C6112051005816")
        #expect(f.imsi == "460022670845816")
        #expect(f.signal?.rssi == 31)
    }

    @Test func luatAir780EHexICCID() throws {
        let f = try facts("at_luat_iccid-hex_openluat-air780e.txt")
        #expect(f.iccid?.normalized == "898604981022C0254186")
        #expect(f.simState == .ready)
    }

    @Test func multitechRedactedValuesAreTypedErrors() throws {
        let f = try facts("at_multitech_iccid-variants_multitech-kb.txt")
        #expect(f.iccid == nil)
        #expect(f.problems.count == 3)
        #expect(throws: ModemParseError.self) { try ATAnswers.iccid(["!ICCID: 8901410425WXYZ934706"]) }
    }

    @Test func ec25BatchWithoutEcho() throws {
        let l = try lines("at_quectel-ec25_atinout-output_koshev-issue45.txt")
        let op = try ATAnswers.cops(l)
        #expect(op.code == "25099" && op.accessTechnologies == ["lte"])
        #expect(try ATAnswers.registration(l).state == .home)
        #expect(try ATAnswers.csq(l).rssi == 30)
    }

    @Test func ep06TrailingF() throws {
        let f = try facts("at_quectel-ep06_qccid-F_4iceg-issue111.txt")
        #expect(f.iccid?.normalized == "8939560000000806706")
        #expect(f.iccidAsRead == "8939560000000806706F")
        #expect(f.problems.count == 1)  // the redacted `xxxxx` answer
    }

    @Test func rm500uQuectelCMLog() throws {
        let f = try facts("at_quectel-rm500u_quectel-CM-log_forlinx.txt")
        #expect(f.firmware == "RM500UCNAAR03A03M2G_01.001.01.001")
        #expect(f.simState == .ready)
        #expect(f.iccid?.normalized == "898604B2012290748345")
        #expect(f.imsi == "460083265908345")
        #expect(f.operatorName == "CHINA MOBILE" && f.operatorCode == "46000")
        #expect(f.registration == .home)
        #expect(f.accessTechnologies == ["lte"])
    }

    @Test func rm510qBootBurst() throws {
        let f = try facts("at_quectel-rm510q_cfun-reboot-urcs_pchat.txt")
        #expect(f.simState == .ready)
        #expect(f.imei == nil && f.iccid == nil)
        #expect(throws: ModemParseError.self) { try ATAnswers.iccid(["+CRSM: 148,8,\"\""]) }
    }

    @Test func rm510qStaleCCLKIsNotAnIMSI() throws {
        let f = try facts("at_quectel-rm510q_cimi-interleaved-cclk_pchat.txt")
        #expect(f.imsi == nil)
        #expect(f.problems.contains { $0.command == "at+cimi" })
        #expect(f.imei == "867034040025018")
        #expect(f.firmware == "RM510QGLAAR11A03M4G")
    }

    @Test func rm510qCOPSAcT13() throws {
        let f = try facts("at_quectel-rm510q_cops_pchat.txt")
        #expect(f.operatorName == "TRUE-H TRUE-H")
        #expect(try ATAnswers.cops(["+COPS: 0,0,\"TRUE-H TRUE-H\",13"]).accessTechnologies == ["lte", "5gnr"])
    }

    @Test func wp7702CCIDWithEID() throws {
        let f = try facts("at_sierra-wp7702_ccid-cgsn-ati_octaveorp.txt")
        #expect(f.iccid?.normalized == "89332401000010876791")
        #expect(f.imei == "352653090215245")
        #expect(f.manufacturer == "Sierra Wireless, Incorporated" && f.model == "WP7702")
    }

    @Test func sierraCRSMSwappedEqualsICCID() throws {
        let exchanges = ATTranscript.exchanges(
            try Fixtures.text("at_sierra_crsm-swapped-and-iccid_nm-list-2013-07.txt"))
        let crsm = try #require(exchanges.first { $0.command.hasPrefix("AT+CRSM") })
        let iccidCommand = try #require(exchanges.first { $0.command == "AT+ICCID" })
        #expect(try ATAnswers.iccid(crsm.lines).iccid.normalized == "89490200000863940628")
        #expect(try ATAnswers.iccid(crsm.lines).asRead == "98942000008036496082")
        #expect(try ATAnswers.iccid(iccidCommand.lines).iccid.normalized == "89490200000863940628")
    }

    @Test func a7670eNoSIM() throws {
        let f = try facts("at_simcom-a7670e_no-sim_lilygo-t-internet-com-issue24.txt")
        #expect(f.simState == .notInserted)
        #expect(f.imsi == nil)
    }

    @Test func sim7600CICCIDAnswersICCIDPrefix() throws {
        let f = try facts("at_simcom-sim7600_manual-v1.12_ciccid-csq.txt")
        #expect(f.iccid?.normalized == "898600700907A6019125")
        #expect(f.signal?.rssi == 22)
    }

    @Test func sim7600EHATI() throws {
        let f = try facts("at_simcom-sim7600e-h_ati-csq-cpsi_note.txt")
        #expect(f.manufacturer == "SIMCOM INCORPORATED" && f.model == "SIMCOM_SIM7600E-H")
        #expect(f.firmware == "SIM7600M22_V1.1")
        #expect(f.imei == "867584034313614")
        #expect(f.signal?.rssi == 19)
    }

    @Test func sim800VerboseNoSIM() throws {
        let f = try facts("at_simcom-sim800_cpin-error-vs-verbose_lilygo-issue33.txt")
        #expect(f.simState == .notInserted)
        #expect(ATFinalResult(line: "+CME ERROR: 10")?.simState == .notInserted)
        #expect(ATFinalResult(line: "+CME ERROR: SIM not inserted")?.simState == .notInserted)
    }

    @Test func sim868BareLowercaseF() throws {
        let f = try facts("at_simcom-sim868_ccid-bare-lowercase-f_tinygsm-issue336.txt")
        #expect(f.iccid?.normalized == "8944501810180244540")
        #expect(f.imei == "868183038764457")
    }

    @Test func quotedCGSN() throws {
        #expect(try facts("at_simcom_cgsn-gsn-quoted_tinygsm-issue444.txt").imei == "869777028421538")
    }

    @Test func syntheticMMScript() throws {
        let f = try facts("at_synthetic_mm-gsm-port.conf")
        #expect(f.imei == "123456789012345")
        #expect(f.imsi == "998899889988997")
        #expect(f.operatorCode == "21401" && f.operatorName == "vodafone ES")
        #expect(f.registration == .home)
        #expect(f.signal?.rssi == 17)
        #expect(f.simState == .ready)
        #expect(f.manufacturer == "Some vendor" && f.model == "Some model" && f.firmware == "Some revision")
    }

    @Test func telitHashCommands() throws {
        let f = try facts("at_telit_examples.txt")
        #expect(f.iccid?.normalized == "89014104279461713562")
        #expect(try ATAnswers.imsi(["#CIMI: 310260584850247"]) == "310260584850247")
        #expect(try ATAnswers.iccid(["#CCID: 8901260580048502477"]).iccid.normalized == "8901260580048502477")
    }

    @Test func ublox() throws {
        #expect(try ATAnswers.iccid(["+CCID: 8939107900010087330"]).iccid.normalized == "8939107900010087330")
        let solicited = try ATAnswers.registration(["+CREG: 2,6,\"8B37\",\"0A265185\",7"])
        #expect(solicited.state == .homeSMSOnly && solicited.accessTechnologies == ["lte"])
        #expect(try ATAnswers.registration(["+CREG: 6,\"8B37\",\"0A265185\",7"]).state == .homeSMSOnly)
        // +CRSM of another file (EF 28471) is not taken for an ICCID.
        #expect(try facts("at_ublox_examples.txt").iccid == nil)
    }

    @Test func openpilotLogTrailingF() throws {
        #expect(try Identifiers.iccid("8944476500008878576F").normalized == "8944476500008878576")
        #expect(try Identifiers.iccid("89852351123040005012").normalized == "89852351123040005012")
    }

    @Test(arguments: ["at_quectel-ec200t_qeng_4iceg-issue43.txt", "at_sierra-em7455_lteinfo-gstatus_danielewood.txt"])
    func noIdentityInSignalDumps(name: String) throws {
        let f = try facts(name)
        #expect(f.imei == nil && f.iccid == nil && f.imsi == nil)
    }

    @Test func modemManagerTestVectors() throws {
        let ok: [(String, String)] = [
            ("\"984402003576012594F9\"", "8944200053671052499"), ("98231420326409614067", "89324102234690160476"),
            ("8944200053671052499F", "8944200053671052499"), ("8944200053671052499", "8944200053671052499"),
            ("\"89324102234690160476\"", "89324102234690160476"), ("\"898602F9091830030220\"", "898602F9091830030220"),
            ("\"898602C0123456789012\"", "898602C0123456789012"),
        ]
        for (input, expected) in ok { #expect(try Identifiers.iccid(input).normalized == expected) }
        for bad in ["982314203264096", "98231420326pl9614067", "\"0044200053671052499\""] {
            #expect(throws: ModemParseError.self) { try Identifiers.iccid(bad) }
        }
        for form in [
            "+CRSM: 144, 0, 0054485552415941FFFFFFFFFFFFFFFFFF", "+CRSM: 144, 0,0054485552415941FFFFFFFFFFFFFFFFFF",
            "+CRSM: 144, 0, \"0054485552415941FFFFFFFFFFFFFFFFFF\"",
            "+CRSM: 144, 0,\"0054485552415941FFFFFFFFFFFFFFFFFF\"",
        ] {
            #expect(try ATAnswers.crsmData(form) == "0054485552415941FFFFFFFFFFFFFFFFFF")
        }
        #expect(ICCID.nibbleSwapped("98942000008036496082") == "89490200000863940628")
    }

    @Test func parsersNeverCrashOnOddInput() {
        let inputs = [
            "", "\r\n", "+CSQ:", "+COPS: ,,", "+CREG: \"", "+CRSM: 144", "AT", "'", "[", "[x", "+ '", "\\r\\n",
        ]
        for input in inputs {
            _ = ATFacts.from(transcript: input)
            _ = try? ATAnswers.iccid([input])
            _ = try? ATAnswers.registration([input])
            _ = try? ATAnswers.cops([input])
            _ = try? ATAnswers.csq([input])
            _ = try? MMCLIText.modem(input)
            _ = try? QMICLI.slotStatus(input)
            _ = try? MBIMCLI.registration(input)
        }
    }
}
