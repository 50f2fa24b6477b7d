import EdgeCommon
@testable import EmnifyAPI
import Foundation
import Synchronization
import Testing

/// The pause after a refused application token outlives the process (issue 14, defect 6).
@Suite struct AuthenticationPauseTests {
    let directory: URL
    var pausePath: String { directory.appendingPathComponent("auth-pause").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-pause-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A new client, as after a restart: the monotonic clock starts elsewhere, the wall clock goes on.
    func client(_ transport: ScriptedTransport, clock: GatewayClock, token: String = "wrong-token") -> EmnifyClient {
        EmnifyClient(
            configuration: .init(
                baseURL: "https://api.test", applicationToken: token, authenticationPausePath: pausePath,
                retry: RetryPolicy(maxAttempts: 1)),
            transport: transport, clock: clock, monotonic: clock, sleep: { _ in })
    }

    @Test func restartsHonourThePauseAndANewTokenIsTriedAtOnce() async throws {
        let clock = GatewayClock()
        let transport = ScriptedTransport { request, _ in
            let body = String(decoding: request.body ?? [], as: UTF8.self)
            if request.path == "/api/v1/authenticate" && !body.contains("right-token") {
                return .json(401, #"{"message":"Invalid application token"}"#, headers: ["date": clock.httpDate])
            }
            if request.path == "/api/v1/authenticate" {
                return .json(200, #"{"auth_token":"\#(TestJWT.make(issuedAt: clock.apiNow / 1000, lifetime: 3600))"}"#)
            }
            return .json(200, "[]")
        }
        var logins: Int { transport.paths.filter { $0 == "/api/v1/authenticate" }.count }
        await #expect(throws: EmnifyError.self) { try await client(transport, clock: clock).authenticate() }
        #expect(logins == 1)
        let pause = try #require(AuthenticationPauseFile.loadAny(path: pausePath))
        #expect(pause.consecutiveFailures == 1 && pause.pauseMillis == 300_000)
        #expect(
            pause.until == UTCDateTime(secondsSinceEpoch: pause.untilMillis / 1000).iso8601
                && pause.until.hasSuffix("Z"))
        let mode = try FileManager.default.attributesOfItem(atPath: pausePath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        for _ in 0..<4 {
            clock.pass(seconds: 30)
            do {
                try await client(transport, clock: clock).authenticate()
                Issue.record("expected the pause")
            } catch {
                guard case .authenticationSuspended(let until, _) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(abs(until * 1000 - pause.untilMillis) <= 2000, "the pause ends when it was set to")
                #expect(error.description.contains(pause.until), "the end as a date: \(error)")
            }
        }
        #expect(logins == 1, "four restarts inside the pause: no login")

        // The pause is over: one more try, and the next pause is twice as long.
        clock.pass(seconds: 300)
        await #expect(throws: EmnifyError.self) { try await client(transport, clock: clock).authenticate() }
        #expect(logins == 2)
        #expect(AuthenticationPauseFile.loadAny(path: pausePath)?.pauseMillis == 600_000)

        // A corrected token is not held back by the old token's pause, and ends it.
        try await client(transport, clock: clock, token: "right-token").authenticate()
        #expect(logins == 3)
        #expect(!FileManager.default.fileExists(atPath: pausePath))
    }

    @Test func aClockSetBackCannotStretchThePause() {
        let pause = AuthenticationPause(
            untilMillis: 1_000_300_000, reason: "r", consecutiveFailures: 1, pauseMillis: 300_000, clockOffsetMillis: 0)
        #expect(pause.remaining(atLocalMillis: 1_000_000_000) == 300_000)
        #expect(pause.remaining(atLocalMillis: 1_000_000_000 - 86_400_000) == 300_000, "a day back: still 5 minutes")
        #expect(pause.remaining(atLocalMillis: 1_000_400_000) == 0)
    }
}
