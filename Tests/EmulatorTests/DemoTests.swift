import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `emnify-emulator demo` (the README's first command) leaves nothing behind: not when it
/// ends, not after Ctrl-C, not when it is killed outright.
@Suite("The demo and its children", .serialized)
struct DemoTests {
    /// Starts the demo and waits until the agent publishes (all four children are up by then).
    private func startDemo(duration: Int) async throws -> (RunningProcess, Set<ProcessTable.Entry>, String) {
        let demo = try RunningProcess(
            BuiltProducts.path(of: "emnify-emulator"), ["demo", "--duration", String(duration), "--event-rate", "30"],
            environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "TMPDIR": NSTemporaryDirectory()])
        _ = try await demo.waitForLine(prefix: "   MQTT emnify/", timeout: .seconds(60))
        let children = Set(ProcessTable.children(of: demo.processIdentifier))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "emnify-edge-demo-\(demo.processIdentifier)"
        ).path
        return (demo, children, directory)
    }

    private func expectAllGone(_ children: Set<ProcessTable.Entry>) async {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, children.contains(where: ProcessTable.isRunning) {
            try? await Task.sleep(for: .milliseconds(50))
        }
        #expect(
            children.filter(ProcessTable.isRunning).isEmpty, "still running: \(children.filter(ProcessTable.isRunning))"
        )
    }

    @Test(.timeLimit(.minutes(2)))
    func everyChildIsGoneWhenTheDemoReturns() async throws {
        let (demo, children, directory) = try await startDemo(duration: 10)
        #expect(Set(children.map(\.command)) == ["mosquitto", "mosquitto_sub", "emnify-edge"], "\(children)")
        let result = await demo.wait(timeout: .seconds(60))
        #expect(result.exitCode == 0, "\(result.standardOutput.suffix(1500)) \(result.standardError.suffix(1500))")
        #expect(result.standardOutput.contains("== Done: ran 10 s, emnify-edge exit code 0"))
        #expect(result.standardOutput.contains("/status offline"), "the agent's offline reached the subscriber")
        await expectAllGone(children)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test(.timeLimit(.minutes(2)))
    func ctrlCStopsEveryChildInOrder() async throws {
        let (demo, children, directory) = try await startDemo(duration: 600)
        demo.signal(SIGINT)
        let result = await demo.wait(timeout: .seconds(60))
        #expect(result.exitCode == 128 + SIGINT, "\(result.standardOutput.suffix(1500))")
        #expect(result.standardOutput.contains("== Done: interrupted by Ctrl-C, emnify-edge exit code 0"))
        #expect(result.standardOutput.contains("/status offline"))
        await expectAllGone(children)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test(.timeLimit(.minutes(2)))
    func childrenDieWithAKilledDemo() async throws {
        let (demo, children, directory) = try await startDemo(duration: 600)
        #expect(children.count == 3, "\(children)")
        demo.kill()
        _ = await demo.wait(timeout: .seconds(30))
        await expectAllGone(children)
        try? FileManager.default.removeItem(atPath: directory)  // a SIGKILL leaves no time to clean up
    }
}
