import EdgeCommon
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private struct Refused: Error, Equatable {
    let code: Int
}

/// A flag that blocking bodies wait for (on the executor's threads, never on the cooperative pool).
private final class Gate: Sendable {
    private let isOpen = Locked(false)

    func open() { isOpen.withLock { $0 = true } }

    var isOpened: Bool { isOpen.withLock { $0 } }

    /// True once opened; false when `timeout` passed first (the test then fails instead of hanging).
    func wait(timeout: Duration = .seconds(120)) -> Bool {
        let deadline = Deadline(after: timeout)
        while !isOpened {
            if deadline.hasPassed { return false }
            usleep(1_000)
        }
        return true
    }
}

/// Waits on the cooperative pool, without blocking it, until `condition` holds or a generous deadline passed.
private func eventually(_ condition: () -> Bool) async throws -> Bool {
    let deadline = Deadline(after: .seconds(120))
    while !condition() {
        if deadline.hasPassed { return false }
        try await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// The threads of this process named `name` (each executor names its threads).
private func threadsNamed(_ name: String) -> Int {
    guard let directory = opendir("/proc/self/task") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let task = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard Int(task) != nil, let comm = try? FileReader.readText("/proc/self/task/\(task)/comm", limit: 64) else {
            continue
        }
        if comm.split(whereSeparator: \.isNewline).first.map(String.init) == name { count += 1 }
    }
    return count
}

@Suite struct BlockingExecutorTests {
    @Test func returnsTheResult() async {
        let executor = BlockingExecutor(name: "exec-result", maximumThreads: 4, idleTimeout: .seconds(5))
        let value = await executor.run { 6 * 7 }
        #expect(value == 42)
        let text = await SerialLane(on: executor).run { String(repeating: "ab", count: 3) }
        #expect(text == "ababab")
    }

    @Test func throwsTheBodysError() async {
        let executor = BlockingExecutor(name: "exec-error", maximumThreads: 4, idleTimeout: .seconds(5))
        await #expect(throws: Refused(code: 7)) {
            try await executor.run { () throws(Refused) -> Int in throw Refused(code: 7) }
        }
        await #expect(throws: Refused(code: 8)) {
            try await SerialLane(on: executor).run { () throws -> Int in throw Refused(code: 8) }
        }
        // Typed throws come through typed: no cast needed.
        do throws(Refused) {
            _ = try await executor.run { () throws(Refused) -> Int in throw Refused(code: 9) }
            Issue.record("no error")
        } catch {
            #expect(error.code == 9)
        }
    }

    @Test func manyConcurrentCallsAllCompleteWithinTheCap() async {
        let executor = BlockingExecutor(name: "exec-many", maximumThreads: 4, idleTimeout: .seconds(5))
        let mostThreads = Locked(0)
        let sum = await withTaskGroup(of: Int.self) { group in
            for index in 0..<500 {
                group.addTask {
                    await executor.run {
                        let alive = executor.threadCount
                        mostThreads.withLock { $0 = max($0, alive) }
                        usleep(100)
                        return index
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(sum == (0..<500).reduce(0, +))
        #expect(mostThreads.withLock { $0 } <= 4)
    }

    @Test func aBlockedCallDoesNotHoldUpTheOthers() async throws {
        let executor = BlockingExecutor(name: "exec-blocked", maximumThreads: 4, idleTimeout: .seconds(5))
        let started = Gate()
        let release = Gate()
        // The first body blocks until the second one, submitted while it blocks, opens the gate:
        // that can only happen on a second thread.
        let blocked = Task {
            await executor.run { () -> Bool in
                started.open()
                return release.wait()
            }
        }
        try #require(try await eventually { started.isOpened })
        await executor.run { release.open() }
        #expect(await blocked.value)
    }

    @Test func beyondTheCapWorkWaitsInOrder() async throws {
        let executor = BlockingExecutor(name: "exec-cap", maximumThreads: 1, idleTimeout: .seconds(5))
        let started = Gate()
        let release = Gate()
        let order = Locked<[String]>([])
        let first = Task {
            await executor.run {
                started.open()
                _ = release.wait()
                order.withLock { $0.append("first") }
            }
        }
        try #require(try await eventually { started.isOpened })
        let second = Task { await executor.run { order.withLock { $0.append("second") } } }
        release.open()
        await first.value
        await second.value
        #expect(order.withLock { $0 } == ["first", "second"])
    }

    @Test func aSerialLaneRunsItsJobsOneAtATimeInOrder() async {
        let executor = BlockingExecutor(name: "exec-lane", maximumThreads: 8, idleTimeout: .seconds(5))
        let lane = SerialLane(on: executor)
        let seen = Locked<[Int]>([])
        let running = Locked(0)
        let mostAtOnce = Locked(0)
        for index in 0..<300 {
            lane.execute {
                let now = running.withLock { count in
                    count += 1
                    return count
                }
                mostAtOnce.withLock { $0 = max($0, now) }
                if index % 10 == 0 { usleep(200) }  // gives other threads of the executor every chance to overlap
                seen.withLock { $0.append(index) }
                running.withLock { $0 -= 1 }
            }
            // Other work on the same executor meanwhile must not disturb the lane.
            if index % 50 == 0 { executor.execute { usleep(500) } }
        }
        await lane.run {}  // after every earlier job of the lane
        #expect(seen.withLock { $0 } == Array(0..<300))
        #expect(mostAtOnce.withLock { $0 } == 1)
    }

    @Test func idleThreadsExit() async throws {
        let name = "exec-idle-test"
        let executor = BlockingExecutor(name: name, maximumThreads: 8, idleTimeout: .milliseconds(200))
        let arrived = Locked(0)
        let release = Gate()
        let held = Task {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        await executor.run { () -> Bool in
                            arrived.withLock { $0 += 1 }
                            return release.wait()
                        }
                    }
                }
                return await group.allSatisfy { $0 }
            }
        }
        try #require(try await eventually { arrived.withLock { $0 } == 4 })
        #expect(threadsNamed(name) == 4)
        #expect(executor.threadCount == 4)
        release.open()
        #expect(await held.value)
        #expect(try await eventually { threadsNamed(name) == 0 })
        #expect(executor.threadCount == 0)
        // And it starts threads again when work comes.
        #expect(await executor.run { threadsNamed(name) } == 1)
    }

    @Test func underLightLoadOneThreadKeepsTheWorkAndTheOthersExit() async throws {
        let name = "exec-light-load"
        let executor = BlockingExecutor(name: name, maximumThreads: 8, idleTimeout: .milliseconds(500))
        let arrived = Locked(0)
        let release = Gate()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    await executor.run {
                        arrived.withLock { $0 += 1 }
                        _ = release.wait()
                    }
                }
            }
            while arrived.withLock({ $0 }) < 4 { try? await Task.sleep(for: .milliseconds(5)) }
            release.open()
        }
        // A job every 50 ms: woken in turn, each of the four would be woken well within its idle
        // timeout and none would ever exit; the thread idle last takes each job, so the other three exit.
        let deadline = Deadline(after: .seconds(120))
        var threads = Int.max
        while !deadline.hasPassed {
            threads = await executor.run { threadsNamed(name) }
            if threads == 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(threads == 1)
    }
}
