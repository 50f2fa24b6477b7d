import EdgeCommon
import Testing

@testable import ModemIdentity

@Suite struct MMCLIFixtureTests {
    @Test func modemListJSONFollowsIndexThree() throws {
        #expect(
            try MMCLIJSON.modemList(Fixtures.bytes("mmcli-L-J_iqrf.json")) == ["/org/freedesktop/ModemManager1/Modem/3"]
        )
    }

    @Test func connected3G() throws {
        let m = try MMCLIJSON.modem(Fixtures.bytes("mmcli-m-J_iqrf_connected-3g.json"))
        #expect(m.path == "/org/freedesktop/ModemManager1/Modem/3")
        #expect(m.simPath == "/org/freedesktop/ModemManager1/SIM/3")
        #expect(m.bestIMEI == "862570024875048")
        #expect(m.manufacturer == "huawei" && m.model == "E3131")
        #expect(m.accessTechnologies == ["edge"])
        #expect(m.signalPercent == 74)
        #expect(m.registrationState == "home")
        #expect(m.operatorCode == nil)
        #expect(m.simState == .ready)
    }

    @Test func connectedLTE() throws {
        let m = try MMCLIJSON.modem(Fixtures.bytes("mmcli-m-J_iqrf_connected.json"))
        #expect(m.bestIMEI == "865167066186454")
        #expect(m.model == "EG25" && m.firmware == "EG25GGBR07A08M2G")
        #expect(m.operatorCode == "23002" && m.operatorName == "O2.CZ O2-CZ")
        #expect(m.signalPercent == 60 && !m.signalRecent)
        #expect(m.simPath == "/org/freedesktop/ModemManager1/SIM/0")
    }

    @Test func searching() throws {
        let m = try MMCLIJSON.modem(Fixtures.bytes("mmcli-m-J_iqrf_searching.json"))
        #expect(m.path == "/org/freedesktop/ModemManager1/Modem/2")
        #expect(m.simPath == "/org/freedesktop/ModemManager1/SIM/1")
        #expect(m.bestIMEI == "860536043724634")
        #expect(m.registrationState == "searching")
        #expect(m.accessTechnologies.isEmpty)
        #expect(m.simState == .ready)
    }

    @Test func withoutSIM() throws {
        let m = try MMCLIJSON.modem(Fixtures.bytes("mmcli-m-J_iqrf_without-sim.json"))
        #expect(m.simPath == nil)
        #expect(m.imei == nil)
        #expect(m.bestIMEI == "862570024875048")
        #expect(m.state == "failed" && m.stateFailedReason == "sim-missing")
        #expect(m.simState == .notInserted)
    }

    @Test func telitRoamingWithPIN2Lock() throws {
        let m = try MMCLIJSON.modem(Fixtures.bytes("mmcli-m-J_telit-le910c4-wwxd_connected_orb.json"))
        #expect(m.bestIMEI == "353338976168895")
        #expect(m.registrationState == "roaming")
        #expect(RegistrationState(rawValue: m.registrationState ?? "")?.isRegistered == true)
        #expect(m.operatorCode == "26202" && m.operatorName == "vodafone.de")
        #expect(m.unlockRequired == "sim-pin2")
        #expect(m.simState == .ready)
        #expect(m.firmware == "25.30.608  1  [Nov 14 2023 07:00:00]")
    }

    @Test func emnifySIM() throws {
        let s = try MMCLIJSON.sim(Fixtures.bytes("mmcli-i-J_emnify-sim_orb.json"))
        let iccid = try Identifiers.iccid(#require(s.iccid))
        #expect(iccid.normalized == "89883030000111825060")
        #expect(iccid.withoutCheckDigit == "8988303000011182506")
        #expect(s.imsi == "295050905643977")
        #expect(s.operatorCode == "29505" && s.operatorName == "FL1")
        #expect(s.eid == nil && s.active == true)
    }

    @Test func keyValueSIM() throws {
        let s = try MMCLIText.simFromKeyValues(Fixtures.text("mmcli-K-sim_keyvalue_scs-core.txt"))
        #expect(s.iccid == "8944110068256270054")
        #expect(s.imsi == "234104886708667")
        #expect(s.operatorCode == "23410" && s.operatorName == "giffgaff")
    }

    @Test func humanListTwoObjectsForOneModem() throws {
        let text = try Fixtures.text("mmcli-L-and-m_human_two-objects_mm-commit-592f8b63.txt")
        #expect(
            try MMCLIText.modemList(text) == [
                "/org/freedesktop/ModemManager1/Modem/1", "/org/freedesktop/ModemManager1/Modem/0",
            ])
        #expect(try MMCLIText.modem(text).equipmentIdentifier == "359172390022295")
    }

    @Test func humanNoModems() throws {
        #expect(try MMCLIText.modemList(Fixtures.text("mmcli-L_human_no-modems_geerlingguy-issue366.txt")) == [])
    }

    @Test func humanSIM() throws {
        let s = try MMCLIText.sim(Fixtures.text("mmcli-i_human_mm-commit-9e785e14.txt"))
        #expect(s.imsi == "901700000026890")
        #expect(s.iccid == "8988211000000268907")
        #expect(s.operatorCode == "90170")
    }

    @Test func humanFailedSIMMissing() throws {
        let m = try MMCLIText.modem(Fixtures.text("mmcli-m_human_failed-sim-missing_openwrt-luci-3586.txt"))
        #expect(m.bestIMEI == "354940080791469")
        #expect(m.state == "failed" && m.stateFailedReason == "sim-missing")
        #expect(m.simState == .notInserted)
        #expect(m.firmware == "XMM71XX_MAINT_V1.2_MBIM_TELSTR")
    }

    @Test func humanQuectelEG916Q() throws {
        let m = try MMCLIText.modem(Fixtures.text("mmcli-m_human_quectel-eg916q_commaai-vamos-pr57.txt"))
        #expect(m.path == "/org/freedesktop/ModemManager1/Modem/0")
        #expect(m.manufacturer == "Quectel" && m.model == "EG916Q-GL")
        #expect(m.firmware == "EG916QGLLGR01A05M04")
        #expect(m.bestIMEI == "868531061515115")
        #expect(m.signalPercent == 40 && m.signalRecent)
        #expect(m.accessTechnologies == ["lte"])
    }

    @Test(arguments: [
        "mmcli-location-get-J_orb.json", "mmcli-signal-get-J_decimal-comma_iqrf.json",
        "mmcli-signal-get-J_not-polling_iqrf.json", "mmcli-signal-get-J_telit_orb.json",
    ])
    func nonIdentityJSONHasNoIdentity(name: String) throws {
        let m = try MMCLIJSON.modem(Fixtures.bytes(name))
        #expect(m.bestIMEI == nil && m.simPath == nil)
    }

    @Test func garbageIsATypedError() {
        #expect(throws: ModemParseError.empty) { try MMCLIJSON.modemList([UInt8]()) }
        #expect(throws: ModemParseError.self) { try MMCLIJSON.modem(Array("{\"modem\":".utf8)) }
        #expect(throws: ModemParseError.missingField("sim")) { try MMCLIJSON.sim(Array("{}".utf8)) }
    }
}
