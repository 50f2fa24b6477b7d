import EdgeCommon
import EdgeProcess
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The process launcher")
struct LaunchedProcessTests {
    /// A field of /proc/PID/status, e.g. "SigBlk".
    private func status(_ pid: pid_t, _ field: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix(field + ":") }
            .map { $0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test func aChildStartsWithNoSignalBlockedOrIgnoredAndOnlyItsStandardDescriptors() async throws {
        // The caller blocks and ignores what a Swift concurrency thread might; the child must not inherit it.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for number in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&blocked, number) }
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let strayDescriptor = open("/dev/null", O_RDONLY)  // no close-on-exec: a child would inherit it
        defer { close(strayDescriptor) }

        let child = try LaunchedProcess.launch("/bin/sleep", ["30"])
        defer {
            child.signal(SIGKILL)
            child.waitUntilExit()
        }
        let deadline = Deadline(after: .seconds(10))
        while status(child.pid, "Name") != "sleep" && !deadline.hasPassed { usleep(5_000) }
        #expect(status(child.pid, "SigBlk") == "0000000000000000")
        #expect(status(child.pid, "SigIgn") == "0000000000000000")
        // The kernel renames the process before exec closes the close-on-exec descriptors (the
        // launcher's report pipe): wait for that; a descriptor leaked to the child never goes.
        func descriptors() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd")) ?? []).sorted()
        }
        while descriptors() != ["0", "1", "2"] && !deadline.hasPassed { usleep(5_000) }
        #expect(descriptors() == ["0", "1", "2"])
        child.signal(SIGTERM)  // works because it is not blocked
        #expect(await child.wait(timeout: .seconds(10)) == .signalled(SIGTERM))
    }

    @Test func aChildOutlivesTheThreadThatStartedIt() async throws {
        // PR_SET_PDEATHSIG fires when the forking *thread* ends: the launcher forks on a thread
        // of its own, so a caller's thread that retires must not take the child with it.
        let started = Locked<LaunchedProcess?>(nil)
        let thread = Thread { started.withLock { $0 = try? LaunchedProcess.launch("/bin/sleep", ["30"]) } }
        thread.start()
        let deadline = Deadline(after: .seconds(10))
        while started.withLock({ $0 }) == nil && !deadline.hasPassed { usleep(5_000) }
        let child = try #require(started.withLock { $0 })
        try await Task.sleep(for: .milliseconds(500))
        #expect(child.isRunning)
        child.signal(SIGKILL)
        #expect(await child.wait(timeout: .seconds(10)) == .signalled(SIGKILL))
    }

    @Test func exitCodesSignalsAndAProgramThatIsNotThere() async throws {
        let exits = try LaunchedProcess.launch("/bin/sh", ["-c", "exit 3"])
        #expect(await exits.wait(timeout: .seconds(10)) == .exited(3))
        #expect(exits.waitUntilExit().exitCode == 3)
        exits.signal(SIGKILL)  // reaped already: nothing is sent to whoever has the pid now

        #expect(throws: LaunchError.self) { try LaunchedProcess.launch("/nonexistent/program", []) }
        do {
            _ = try LaunchedProcess.launch("/nonexistent/program", [])
        } catch {
            #expect("\(error)" == "cannot start /nonexistent/program: No such file or directory")
        }
    }

    @Test func pipesEnvironmentAndWorkingDirectory() async throws {
        let child = try LaunchedProcess.launch(
            "/bin/sh", ["-c", "cat; echo \"$GREETING\"; pwd; echo oops >&2"], environment: ["GREETING": "hello"],
            directory: "/tmp", standardInput: .pipe, standardOutput: .pipe, standardError: .pipe)
        let output = Locked<[UInt8]>([])
        let errors = Locked<[UInt8]>([])
        let ends = Locked(0)
        PipeReader.start(
            child.standardOutput!, owner: child, onData: { b in output.withLock { $0 += b } },
            onEnd: { ends.withLock { $0 += 1 } })
        PipeReader.start(
            child.standardError!, owner: child, onData: { b in errors.withLock { $0 += b } },
            onEnd: { ends.withLock { $0 += 1 } })
        #expect(child.writeToStandardInput(Array("from stdin\n".utf8)))
        child.closeStandardInput()
        #expect(await child.wait(timeout: .seconds(10)) == .exited(0))
        let deadline = Deadline(after: .seconds(10))
        while ends.withLock({ $0 }) < 2 && !deadline.hasPassed { try await Task.sleep(for: .milliseconds(5)) }
        #expect(String(decoding: output.withLock { $0 }, as: UTF8.self) == "from stdin\nhello\n/tmp\n")
        #expect(String(decoding: errors.withLock { $0 }, as: UTF8.self) == "oops\n")
    }

    @Test func theRunnerKillsAProgramThatOutlivesItsTimeout() throws {
        let started = ContinuousClock.now
        #expect(throws: ProcessRunError.self) {
            try ProcessRunner.run(executable: "/bin/sleep", arguments: ["60"], timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        let output = try ProcessRunner.run(
            executable: "/bin/sh", arguments: ["-c", "echo $LC_ALL; exit 4"], timeout: .seconds(10))
        #expect(output.status == 4)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "C\n")
    }

    @Test func manyChildrenAtOnceFromManyTasks() async throws {
        // The launcher serialises forks; every caller still gets its own child and its output.
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let result = try await ChildProcess.run("/bin/echo", ["child \(index)"], timeout: .seconds(30))
                    return result.standardOutput
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(outputs == Set((0..<40).map { "child \($0)\n" }))
    }
}
