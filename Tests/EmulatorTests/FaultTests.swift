import EmnifyEmulator
import Foundation
import TestSupport
import Testing

@Suite("Injected faults")
struct FaultTests {
    static let path = "/api/v1/event/type"

    @Test func tooManyRequestsWithRetryAfterOnlyForMatchingPathsAndCount() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        await test.control.injectFault(.tooManyRequests(retryAfterSeconds: 7), path: "/api/v1/event*", count: 2)
        let other = try await test.curl("/api/v1/sim", token: token)
        #expect(other.status == 200)
        for _ in 0..<2 {
            let limited = try await test.curl(Self.path, token: token)
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "7")
        }
        #expect(try await test.curl(Self.path, token: token).status == 200)
        #expect(await test.control.counters().faultsServed == 2)
        await test.stop()
    }

    @Test func serverErrorsAndHTML503() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        await test.control.injectFault(.internalServerError)
        let error500 = try await test.curl(Self.path, token: token)
        #expect(error500.status == 500)
        await test.control.injectFault(.serviceUnavailableHTML)
        let error503 = try await test.curl(Self.path, token: token)
        #expect(error503.status == 503)
        #expect(error503.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(error503.bodyText.contains("<html>"))
        await test.stop()
    }

    @Test func faultForADuration() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        let start = ContinuousClock.now
        // 6 s: two curl runs must fit in it also on a loaded machine (under the sanitizers two
        // took more than 3 s).
        await test.control.injectFault(.internalServerError, duration: .seconds(6))
        #expect(try await test.curl(Self.path, token: token).status == 500)
        #expect(try await test.curl(Self.path, token: token).status == 500)
        try await Task.sleep(until: start + .milliseconds(6100))
        #expect(try await test.curl(Self.path, token: token).status == 200)
        await test.stop()
    }

    @Test func stalledResponses() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        await test.control.injectFault(.stall(delay: .milliseconds(800)))
        let start = ContinuousClock.now
        let late = try await test.curl(Self.path, token: token)
        #expect(late.status == 200)
        #expect(ContinuousClock.now - start >= .milliseconds(750))

        await test.control.injectFault(.stall(delay: nil))
        let never = try await test.curl(Self.path, token: token, extraArguments: ["--max-time", "1"])
        #expect(never.exitCode == 28)  // curl: operation timed out
        await test.stop()
    }

    @Test func truncatedAndMalformedBodies() async throws {
        let test = try await TestEmulator.start(.init(tls: .selfSigned, applicationToken: "t", history: 50))
        let token = try await test.authToken()
        let sim = test.emulator.simID
        await test.control.injectFault(.truncatedBody)
        let truncated = try await test.curl("/api/v1/sim/\(sim)/event", token: token)
        #expect(truncated.exitCode == 18)  // curl: partial file
        let declared = Int(truncated.headers["content-length"] ?? "") ?? 0
        #expect(declared > truncated.body.count)

        await test.control.injectFault(.malformedJSON)
        let malformed = try await test.curl("/api/v1/sim/\(sim)/event", token: token)
        #expect(malformed.status == 200)
        #expect((try? malformed.jsonObject()) == nil)
        await test.stop()
    }

    @Test func unauthorizedFaultAndIdleClose() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        await test.control.injectFault(.unauthorized)
        #expect(try await test.curl(Self.path, token: token).status == 401)
        #expect(try await test.curl(Self.path, token: token).status == 200)

        // Two requests on one curl invocation (keep-alive), with a pause longer than the
        // idle close: the second needs a new connection.
        await test.control.reset()
        await test.control.injectFault(.closeIdleConnection(after: .milliseconds(100)), count: 1)
        let url = test.baseURL + Self.path
        let result = try await ChildProcess.run(
            "/bin/sh",
            ["-c", "curl -s -o /dev/null -H 'Authorization: Bearer \(token)' \(url) && sleep 0.5 && true"])
        #expect(result.exitCode == 0)
        let counters = await test.control.counters()
        #expect(counters.requests(Self.path) == 1)
        await test.stop()
    }

    @Test func faultsThroughTheHTTPControlInterface() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        let armed = try await test.curl(
            "/_emulator/faults", method: "POST", body: #"{"kind":"429","retry_after":3,"count":1,"path":"/api/v1/*"}"#)
        #expect(armed.status == 204)
        let limited = try await test.curl(Self.path, token: token)
        #expect(limited.status == 429 && limited.headers["retry-after"] == "3")
        _ = try await test.curl("/_emulator/faults", method: "POST", body: #"{"kind":"503","count":5}"#)
        _ = try await test.curl("/_emulator/faults", method: "DELETE")
        #expect(try await test.curl(Self.path, token: token).status == 200)
        #expect(try await test.curl("/_emulator/revoke-tokens", method: "POST").status == 204)
        #expect(try await test.curl(Self.path, token: token).status == 401)
        let counters = try await test.curl("/_emulator/counters").jsonObject() as? [String: Any]
        let perPath = counters?["requests_per_path"] as? [String: Int]
        #expect(perPath?[Self.path] == 3)
        #expect(counters?["authentications"] as? Int == 1)
        #expect((counters?["bytes_out"] as? Int ?? 0) > 0)
        #expect(try await test.curl("/_emulator/faults", method: "POST", body: #"{"kind":"teapot"}"#).status == 400)
        await test.stop()
    }

    @Test func rawTrickleAndHeaderFaultsAndIssuedTokensThroughTheHTTPControlInterface() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t"))
        let token = try await test.authToken()
        let armed = try await test.curl(
            "/_emulator/faults", method: "POST",
            body:
                #"{"kind":"raw","status":202,"headers":{"X-Odd":"1"},"body_base64":"/w==","repeat":3,"declare_length":false}"#
        )
        #expect(armed.status == 204)
        let raw = try await test.curl(Self.path, token: token)
        #expect(raw.status == 202 && raw.headers["x-odd"] == "1" && Array(raw.body) == [0xFF, 0xFF, 0xFF])
        #expect(raw.headers["transfer-encoding"] == "chunked")

        _ = try await test.curl(
            "/_emulator/faults", method: "POST", body: #"{"kind":"headers","headers":{"X-Total-Pages":"-1"}}"#)
        let lying = try await test.curl("/api/v1/endpoint/\(test.emulator.endpointID ?? 0)/event", token: token)
        #expect(lying.status == 200 && lying.headers["x-total-pages"] == "-1")

        _ = try await test.curl(
            "/_emulator/faults", method: "POST", body: #"{"kind":"trickle","interval_seconds":0.1}"#)
        // How many bytes arrive before curl gives up depends on the machine's load; that some do,
        // all of them spaces, and that the body never ends, does not.
        let trickle = try await test.curl(Self.path, token: token, extraArguments: ["--max-time", "3"])
        #expect(trickle.exitCode == 28, "curl timed out on the endless body")
        #expect(!trickle.body.isEmpty && trickle.body.allSatisfy { $0 == 0x20 })
        let counters = try await test.curl("/_emulator/counters").jsonObject() as? [String: Any]
        #expect((counters?["streamed_bytes"] as? Int ?? 0) >= 3 + trickle.body.count)

        let second = try await test.authToken()
        let tokens = try await test.curl("/_emulator/tokens").jsonObject() as? [String: Any]
        #expect(tokens?["tokens"] as? [String] == [token, second])
        #expect(await test.control.issuedTokens() == [token, second])
        await test.stop()
    }

    /// A raw answer with an empty body set through the HTTP control interface (which repeats the
    /// body once) spun its task for ever after the head: as many such answers as cores starved
    /// the whole emulator. A child process, so that a regression hangs only the child.
    @Test func emptyRawBodiesLeaveTheEmulatorAnswering() async throws {
        let executable = BuiltProducts.path(of: "emnify-emulator")
        try #require(BuiltProducts.exists("emnify-emulator"), "build it first: \(executable)")
        let process = try RunningProcess(
            executable, ["serve", "--tls", "none", "--port", "0", "--token", "t", "--history", "0"])
        let line = try await process.waitForLine(prefix: "EMULATOR_READY")
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("url=") }?.dropFirst(4))
        let answers = ProcessInfo.processInfo.activeProcessorCount + 2
        let armed = try await Curl.request(
            "\(url)/_emulator/faults", method: "POST", body: #"{"kind":"raw","body":"","count":\#(answers)}"#)
        #expect(armed.status == 204)
        // --max-time only ends the hang of a regression; the answers come at once.
        for _ in 0..<answers {
            let empty = try await Curl.request("\(url)\(Self.path)", extraArguments: ["--max-time", "20"])
            #expect(empty.status == 200 && empty.body.isEmpty)
        }
        let info = try await Curl.request("\(url)/_emulator/info", extraArguments: ["--max-time", "20"])
        #expect(info.status == 200, "the emulator still answers")
        process.signal(SIGTERM)
        let result = await process.wait(timeout: .seconds(10))
        #expect(!result.timedOut && result.exitCode == 0)
    }
}
