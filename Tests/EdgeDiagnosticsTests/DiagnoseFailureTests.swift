import EmnifyEmulator
import Foundation
import TestSupport
import Testing

/// Each broken link gives the right FAIL with its hint, and exit code 1.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DiagnoseFailureTests {
    func expectFailure(
        _ fixture: DiagnoseFixture, check id: String, finding: String, next: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let (result, _, checks) = try await fixture.diagnoseJSON()
        #expect(result.exitCode == 1, sourceLocation: sourceLocation)
        let check = try #require(checks[id], sourceLocation: sourceLocation)
        #expect(check["status"] as? String == "fail", "\(check)", sourceLocation: sourceLocation)
        #expect((check["finding"] as? String)?.contains(finding) == true, "\(check)", sourceLocation: sourceLocation)
        #expect((check["next_step"] as? String)?.contains(next) == true, "\(check)", sourceLocation: sourceLocation)
        DiagnoseFixture.expectNoSecrets(
            result.standardOutput + result.standardError, "output", sourceLocation: sourceLocation)
    }

    @Test func aWrongToken() async throws {
        let fixture = try await DiagnoseFixture(token: "wrong-token-Zt81", broker: false)
        try await fixture.using {
            try await expectFailure(
                fixture, check: "account", finding: "rejected the application token", next: "new application token")
            let (result, _, _) = try await fixture.diagnoseJSON()
            #expect(!result.standardOutput.contains("wrong-token-Zt81"))
        }
    }

    @Test func aSIMThatIsNotInTheOrganisation() async throws {
        let fixture = try await DiagnoseFixture(broker: false, iccid: "89490200000000000001")
        try await fixture.using {
            try await expectFailure(
                fixture, check: "account", finding: "no SIM with ICCID 89490200000000000001", next: "organisation")
        }
    }

    @Test func aSIMWithoutEndpoint() async throws {
        let fixture = try await DiagnoseFixture(broker: false) { $0.hasEndpoint = false }
        try await fixture.using {
            try await expectFailure(
                fixture, check: "account", finding: "not assigned to an endpoint", next: "assign the SIM")
        }
    }

    @Test func theBrokerIsDown() async throws {
        let fixture = try await DiagnoseFixture(broker: false)
        try await fixture.using {
            try await expectFailure(
                fixture, check: "broker", finding: "cannot connect to the broker", next: "start the broker")
        }
    }

    @Test func anUntrustedCertificate() async throws {
        let fixture = try await DiagnoseFixture(broker: false) { $0.tls = .untrusted }
        try await fixture.using {
            try await expectFailure(fixture, check: "network", finding: "certificate is not trusted", next: "ca_file")
        }
    }

    @Test func theAPIAnswers503() async throws {
        let fixture = try await DiagnoseFixture(broker: false)
        try await fixture.using {
            await fixture.emulator.control.injectFault(.serviceUnavailableHTML, duration: .seconds(60))
            try await expectFailure(fixture, check: "account", finding: "HTTP 503", next: "status.emnify.com")
        }
    }

    @Test func theModemIsMissing() async throws {
        let fixture = try await DiagnoseFixture(
            broker: false, modem: "source = \"modemmanager\"\nmmcli = \"/nonexistent\"\ntimeout = \"2s\"")
        try await fixture.using {
            try await expectFailure(fixture, check: "modem", finding: "cannot be read", next: "ModemManager")
            let (_, _, checks) = try await fixture.diagnoseJSON()
            #expect((checks["account"]?["finding"] as? String)?.hasPrefix("not checked") == true)
        }
    }
}
