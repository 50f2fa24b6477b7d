import EdgeCommon
import EdgeReports
import Foundation
import Testing

@testable import ModemIdentity

/// A stand-in `mmcli` shell script that prints fixtures, selected through the `mmcli` path setting.
@Suite(.serialized) struct ModemManagerIntegrationTests {
    func fakeMMCLI(_ body: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("mmcli").path
        let script = """
            #!/bin/sh
            F='\(Fixtures.directory.path)'
            [ "$LC_ALL" = "C" ] || { echo "LC_ALL not C" >&2; exit 9; }
            \(body)
            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func followsModemAndSIMPathsNotIndexZero() async throws {
        let mmcli = try fakeMMCLI(
            """
            case "$*" in
              "-L -J") cat "$F/mmcli-L-J_iqrf.json" ;;
              "-m /org/freedesktop/ModemManager1/Modem/3 -J") cat "$F/mmcli-m-J_iqrf_connected-3g.json" ;;
              "-i /org/freedesktop/ModemManager1/SIM/3 -J") cat "$F/mmcli-i-J_emnify-sim_orb.json" ;;
              *) echo "error: couldn't find modem" >&2; exit 1 ;;
            esac
            """)
        let reader = ModemIdentityReader(settings: ModemReaderSettings(source: .modemManager, mmcliPath: mmcli))
        let report = try await reader.read()
        #expect(report.source == .modemManager)
        #expect(report.location == "/org/freedesktop/ModemManager1/Modem/3")
        #expect(report.imei == "862570024875048")
        #expect(report.iccid?.normalized == "89883030000111825060")
        #expect(report.imsi == "295050905643977")
        #expect(report.registration == .home && report.accessTechnologies == ["edge"] && report.signalPercent == 74)
        #expect(
            report.identityKey
                == ModemIdentityKey(iccid: "89883030000111825060", imei: "862570024875048", imsi: "295050905643977"))
        let text = IdentityReport(report).renderText()
        #expect(text.contains("ICCID (19): 8988303000011182506"))
        #expect(IdentityReport(report).renderJSON().contains("\"iccid\":\"89883030000111825060\""))
    }

    @Test func modemManagerNotRunning() async throws {
        let mmcli = try fakeMMCLI("echo \"error: couldn't find the ModemManager process in the bus\" >&2; exit 1")
        let reader = ModemIdentityReader(settings: ModemReaderSettings(source: .modemManager, mmcliPath: mmcli))
        await #expect(throws: ModemIdentityError.modemManagerNotRunning) { try await reader.read() }
    }

    @Test func noSIM() async throws {
        let mmcli = try fakeMMCLI(
            """
            case "$*" in
              "-L -J") echo '{"modem-list":["/org/freedesktop/ModemManager1/Modem/1"]}' ;;
              "-m /org/freedesktop/ModemManager1/Modem/1 -J") cat "$F/mmcli-m-J_iqrf_without-sim.json" ;;
              *) exit 1 ;;
            esac
            """)
        let reader = ModemIdentityReader(settings: ModemReaderSettings(source: .modemManager, mmcliPath: mmcli))
        await #expect(throws: ModemIdentityError.simNotInserted(location: "/org/freedesktop/ModemManager1/Modem/1")) {
            try await reader.read()
        }
    }

    @Test func noModems() async throws {
        let mmcli = try fakeMMCLI("echo '{\"modem-list\":[]}'")
        let reader = ModemIdentityReader(settings: ModemReaderSettings(source: .modemManager, mmcliPath: mmcli))
        await #expect(throws: ModemIdentityError.self) { try await reader.read() }
    }

    @Test func hangingMMCLIIsKilledAtTheTimeout() async throws {
        let mmcli = try fakeMMCLI("exec sleep 30")
        let settings = ModemReaderSettings(source: .modemManager, mmcliPath: mmcli, timeout: .milliseconds(300))
        let start = ContinuousClock.now
        await #expect(throws: ModemIdentityError.timeout(command: "mmcli -L -J", seconds: 0.3)) {
            try await ModemIdentityReader(settings: settings).read()
        }
        #expect(ContinuousClock.now - start < .seconds(20), "killed long before its sleep of 30 s ends")
    }

    @Test func autoFallsBackToStaticAndSaysWhy() async throws {
        let mmcli = try fakeMMCLI("echo \"error: couldn't find the ModemManager process in the bus\" >&2; exit 1")
        let settings = ModemReaderSettings(mmcliPath: mmcli, staticICCID: "8944476500008878576F")
        let report = try await ModemIdentityReader(settings: settings).read()
        #expect(report.source == .static && report.iccid?.normalized == "8944476500008878576")
        #expect(report.notes.count == 2)
        #expect(report.notes[0].contains("ModemManager is not running"))
    }

    @Test func autoWithNothingGivesAllFailures() async throws {
        let mmcli = try fakeMMCLI("echo \"error: couldn't find the ModemManager process in the bus\" >&2; exit 1")
        do {
            _ = try await ModemIdentityReader(
                settings: ModemReaderSettings(mmcliPath: mmcli, atPort: "/dev/nonexistent-tty")
            ).read()
            Issue.record("expected an error")
        } catch {
            guard case .allSourcesFailed(let failures) = error else { Issue.record("\(error)"); return }
            #expect(failures.map(\.source) == [.modemManager, .at, .static])
            #expect(error.mostRelevant == .portNotFound(port: "/dev/nonexistent-tty"))
            #expect(IdentityReport.renderJSON(error: error).contains("port-not-found"))
        }
    }

    @Test func identityChanges() {
        let before = ModemIdentityKey(iccid: "89883030000111825060", imei: "862570024875048", imsi: "295050905643977")
        let swapped = ModemIdentityKey(iccid: "8944110068256270054", imei: "862570024875048", imsi: nil)
        #expect(swapped.changes(from: before) == [.iccid])
        #expect(before.changes(from: before).isEmpty)
    }
}

@Suite struct BoardProfileTests {
    @Test func everyBoardLoads() throws {
        let profiles = try BoardProfile.loadAll(in: Fixtures.boardsDirectory.path)
        let names = Set(profiles.map(\.name))
        for required in [
            "quectel-ec25", "quectel-rm500q", "sierra-mc7455", "sierra-em7565", "simcom-sim7600", "ublox-sara-r5",
            "telit-le910", "modemmanager",
        ] {
            #expect(names.contains(required), "missing \(required)")
        }
        for profile in profiles where profile.name != "modemmanager" {
            #expect(profile.atPort != nil && profile.iccidCommand != nil, "\(profile.name)")
        }
        #expect(profiles.first { $0.name == "modemmanager" }?.source == .modemManager)
        let ec25 = try BoardProfile.load(named: "quectel-ec25", from: [Fixtures.boardsDirectory.path])
        #expect(ec25.iccidCommand == "AT+QCCID" && ec25.atPort == "/dev/ttyUSB2")
    }

    @Test func unknownBoardAndBadProfile() {
        #expect(throws: ModemIdentityError.self) { try BoardProfile.load(named: "nope", from: ["/nonexistent"]) }
        #expect(throws: ModemIdentityError.self) { try BoardProfile.parse(toml: "at_prot = \"/dev/x\"", name: "x") }
        #expect(throws: ModemIdentityError.self) {
            try BoardProfile.parse(toml: "iccid_command = \"QCCID\"", name: "x")
        }
    }
}
