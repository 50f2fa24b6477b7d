import EmnifyEmulator
import Foundation
import TestSupport
import Testing

/// The modem through a stand-in `mmcli` (ModemManager's JSON captured from a real gateway, with the
/// emulator's ICCID): emnify's view is compared with the modem's registration.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DiagnoseModemTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModemIdentityTests/Fixtures").path

    /// Writes the stand-in to `directory/mmcli`, answering for Modem/3 and SIM/3.
    static func writeStandIn(in directory: TemporaryDirectory, iccid: String) throws -> String {
        let sim = try String(contentsOfFile: fixtures + "/mmcli-i-J_emnify-sim_orb.json", encoding: .utf8)
            .replacingOccurrences(of: "89883030000111825060", with: iccid)
        _ = try directory.write(sim, to: "sim.json")
        let path = try directory.write(
            """
            #!/bin/sh
            case "$*" in
              "-L -J") cat '\(fixtures)/mmcli-L-J_iqrf.json' ;;
              "-m /org/freedesktop/ModemManager1/Modem/3 -J") cat '\(fixtures)/mmcli-m-J_iqrf_connected-3g.json' ;;
              "-i /org/freedesktop/ModemManager1/SIM/3 -J") cat '\(directory.file("sim.json"))' ;;
              *) echo "error: couldn't find modem" >&2; exit 1 ;;
            esac
            """, to: "mmcli")
        chmod(path, 0o755)
        return path
    }

    @Test func emnifysViewIsComparedWithTheModems() async throws {
        let standIn = try TemporaryDirectory(prefix: "mmcli-standin")
        let mmcli = standIn.file("mmcli")
        let fixture = try await DiagnoseFixture(broker: false, modem: "source = \"modemmanager\"\nmmcli = \"\(mmcli)\"")
        try await fixture.using {
            _ = try Self.writeStandIn(in: standIn, iccid: fixture.emulator.emulator.iccid)

            let (_, _, checks) = try await fixture.diagnoseJSON()
            let modem = try #require(checks["modem"])
            #expect(modem["status"] as? String == "pass", "\(modem)")
            let details = try #require(modem["details"] as? [String: String])
            #expect(details["source"] == "modemmanager")
            #expect(details["registration"] == "home")
            #expect(details["sim_state"] == nil || details["sim_state"] == "ready")
            let connectivity = try #require(checks["connectivity"])
            #expect(connectivity["status"] as? String == "pass", "\(connectivity)")
            #expect((connectivity["finding"] as? String)?.contains("agrees with the modem") == true, "\(connectivity)")

            // emnify loses the device while the modem still says "home": a disagreement with a likely reason.
            _ = await fixture.emulator.control.inject(.purgeLocation, count: 1)
            #expect(await fixture.emulator.control.connectivityStatus() == "OFFLINE")
            let (_, _, after) = try await fixture.diagnoseJSON()
            let disagreement = try #require(after["connectivity"])
            #expect(disagreement["status"] as? String == "warn", "\(disagreement)")
            #expect((disagreement["finding"] as? String)?.contains("emnify sees the device OFFLINE") == true)
            #expect((disagreement["next_step"] as? String)?.contains("not allowed on") == true)
        }
    }
}
