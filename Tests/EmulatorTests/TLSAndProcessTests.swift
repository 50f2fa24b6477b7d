import EmnifyEmulator
import Foundation
import TestSupport
import Testing

@Suite("HTTPS and the executable")
struct TLSAndProcessTests {
    @Test func httpsWithTheGeneratedCA() async throws {
        let test = try await TestEmulator.start()
        #expect(test.baseURL.hasPrefix("https://127.0.0.1:"))
        let result = try await test.curl("/api/v1/event/type", authenticated: true)
        #expect(result.exitCode == 0 && result.status == 200)
        let byName = try await Curl.request(
            test.baseURL.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/api/v1/event/type",
            caFile: test.caFile)
        #expect(byName.exitCode == 0 && byName.status == 401)
        // Without the CA the system trust store must reject it.
        let untrustedClient = try await Curl.request(test.baseURL + "/api/v1/event/type")
        #expect(untrustedClient.exitCode == 60)
        await test.stop()
    }

    @Test func untrustedCertificateFailsVerification() async throws {
        let test = try await TestEmulator.start(.init(tls: .untrusted, applicationToken: "t"))
        let result = try await test.curl("/api/v1/event/type")
        #expect(result.exitCode == 60)  // peer certificate cannot be authenticated
        await test.stop()
    }

    @Test func manyInstancesInParallel() async throws {
        let emulators = try await withThrowingTaskGroup(of: TestEmulator.self) { group in
            for seed in 1...4 {
                group.addTask {
                    try await TestEmulator.start(.init(tls: .selfSigned, applicationToken: "t", seed: UInt64(seed)))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(emulators.map(\.baseURL)).count == 4)
        for test in emulators {
            #expect(try await test.curl("/api/v1/event/type", authenticated: true).status == 200)
            await test.stop()
        }
    }

    @Test func executablePrintsReadyLineAndStopsOnSignal() async throws {
        let executable = BuiltProducts.path(of: "emnify-emulator")
        try #require(BuiltProducts.exists("emnify-emulator"), "build it first: \(executable)")
        let directory = try TemporaryDirectory()
        let caFile = directory.file("ca.pem")
        let process = try RunningProcess(
            executable,
            ["serve", "--port", "0", "--ca-file", caFile, "--token", "cli-token", "--history", "10", "--seed", "7"])
        let line = try await process.waitForLine(prefix: "EMULATOR_READY")
        var fields: [String: String] = [:]
        for part in line.split(separator: " ").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        #expect(fields["token"] == "cli-token")
        #expect(fields["iccid"]?.count == 20)
        #expect(fields["ca"] == caFile)
        let url = try #require(fields["url"])
        let auth = try await Curl.request(
            url + "/api/v1/authenticate", method: "POST", body: #"{"application_token":"cli-token"}"#, caFile: caFile)
        #expect(auth.status == 200)
        process.signal(SIGTERM)
        let result = await process.wait(timeout: .seconds(10))
        #expect(!result.timedOut)
        #expect(result.exitCode == 0)
    }
}
