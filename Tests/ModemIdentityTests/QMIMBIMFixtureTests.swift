import EdgeCommon
import Foundation
import Testing

@testable import ModemIdentity

@Suite struct QMIMBIMFixtureTests {
    @Test func dmsGetIDsOldAlignment() throws {
        let ids = try QMICLI.deviceIDs(Fixtures.text("qmicli_dms-get-ids_pre-1.24-format_libqmi-test-comment.txt"))
        #expect(ids.imei == "359225050039973")
        #expect(ids.esn == "80997874" && ids.meid == "35922505003997")
    }

    @Test func rm510qCardStatusAndIDs() throws {
        let text = try Fixtures.text("qmicli_rm510q_card-status_dms-get-ids_pchat.txt")
        let ids = try QMICLI.deviceIDs(text)
        #expect(ids.imei == "867034040025018" && ids.imeiSV == "27" && ids.meid == nil)
        #expect(try QMICLI.cardStatus(text) == .ready)
    }

    @Test func slotStatusTwoSlots() throws {
        let slots = try QMICLI.slotStatus(Fixtures.text("qmicli_uim-get-slot-status_comment_eve.txt"))
        #expect(slots.count == 2)
        #expect(slots[0].active && slots[0].cardPresent && slots[0].iccid?.normalized == "894921003198100584")
        #expect(!slots[1].active && slots[1].iccid?.normalized == "89492029226029738490")
    }

    @Test func readTransparentIMSI() throws {
        let bytes = try QMICLI.readTransparent(Fixtures.text("qmicli_uim-read-transparent-imsi_turris-omnia.txt"))
        #expect(bytes == [0x08, 0x29, 0x03, 0x20, 0x20, 0x30, 0x04, 0x35, 0x80])
        #expect(try QMICLI.imsi(fromEFIMSI: bytes) == "230020203405308")
    }

    @Test func mbimJournaldFlattened() throws {
        let text = try Fixtures.text("mbimcli_dw5821e_journald_lte-modem-starter.txt")
        let status = try MBIMCLI.subscriberReadyStatus(text)
        #expect(status.simState == .ready)
        #expect(status.imsi == "250027367621340")
        #expect(status.iccid?.normalized == "897010273676213408")
        #expect(status.iccidAsRead == "897010273676213408FF")
        let registration = try MBIMCLI.registration(text)
        #expect(
            registration.state == .home && registration.providerID == "25002" && registration.providerName == "MegaFon")
    }

    @Test func mbimOtherLogs() throws {
        let text = try Fixtures.text("mbimcli_subscriber-ready_other-real-logs.txt")
        let parts = text.components(separatedBy: "# mbim-network")
        let first = try MBIMCLI.subscriberReadyStatus(parts[0])
        #expect(first.imsi == "460028563800461")
        #expect(first.iccid?.normalized == "89860015120716380461")
        #expect(first.iccid?.hasValidLuhnCheckDigit == false)  // real China Unicom ICCID failing Luhn
        let second = try MBIMCLI.subscriberReadyStatus(parts[1])
        #expect(second.imsi == "310410629532284")
        #expect(second.iccid?.normalized == "89014103276295322843")
    }

    @Test func garbage() {
        #expect(throws: ModemParseError.self) { try QMICLI.deviceIDs("hello") }
        #expect(throws: ModemParseError.self) { try MBIMCLI.subscriberReadyStatus("") }
        #expect(throws: ModemParseError.self) { try QMICLI.imsi(fromEFIMSI: [0x09, 0x01]) }
    }
}
