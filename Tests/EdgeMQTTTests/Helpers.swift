import EdgeCommon
import EdgeMQTT
import EdgeProcess
import Foundation
import Logging
import TestSupport

let testLogger: Logger = {
    var logger = Logger(label: "EdgeMQTTTests")
    logger.logLevel = .notice
    return logger
}()

func settings(
    _ broker: MosquittoBroker, clientID: String = "test-\(UUID().uuidString.prefix(8))",
    protocolVersion: MQTTProtocolChoice = .auto
) -> MQTTSettings {
    MQTTSettings(
        host: "127.0.0.1", port: broker.port, clientID: clientID, keepalive: .seconds(10),
        protocolVersion: protocolVersion, reconnectDelay: (.seconds(1), .seconds(2)))
}

func connected(_ settings: MQTTSettings) async throws -> MQTTConnection {
    let connection = try MQTTConnection(settings: settings, logger: testLogger)
    try await connection.start(timeout: .seconds(5))
    return connection
}

/// The first `count` elements of `stream`, or those that came before `timeout` passed.
func collect<T: Sendable>(_ stream: AsyncStream<T>, count: Int, timeout: Duration) async -> [T] {
    await collect(stream, timeout: timeout) { $0.count >= count }
}

/// Elements of `stream` until `done` says so (asked after each) or `timeout` passed.
func collect<T: Sendable>(
    _ stream: AsyncStream<T>, timeout: Duration, until done: @escaping @Sendable ([T]) -> Bool
) async -> [T] {
    let box = Collected<T>()
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            for await item in stream {
                _ = box.append(item)
                if done(box.items) { break }
            }
        }
        group.addTask { try? await Task.sleep(for: timeout) }
        await group.next()
        group.cancelAll()
    }
    return box.items
}

/// `@unchecked Sendable`: `storage` is only touched under `lock`.
final class Collected<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [T] = []

    func append(_ item: T) -> Int {
        lock.withLock {
            storage.append(item)
            return storage.count
        }
    }

    var items: [T] { lock.withLock { storage } }
}

/// Runs `mosquitto_sub` (or another client) to completion, bounded by `-W`, and returns its standard output.
func runClient(_ path: String, _ arguments: [String]) throws -> String {
    let output = try ProcessRunner.run(executable: path, arguments: arguments, timeout: .seconds(120))
    return String(decoding: output.stdout, as: UTF8.self)
}

/// Starts `mosquitto_sub` in the background; `finish()` waits for it (it ends by -C or -W) and returns its output.
final class BackgroundClient: Sendable {
    private let process: LaunchedProcess
    private let output = Locked<[UInt8]>([])
    private let done = Locked(false)

    init(_ arguments: [String]) throws {
        process = try LaunchedProcess.launch(
            "/usr/bin/mosquitto_sub", arguments, standardOutput: .pipe, standardError: .null)
        let output = self.output
        let done = self.done
        PipeReader.start(
            process.standardOutput!, owner: process, onData: { bytes in output.withLock { $0 += bytes } },
            onEnd: { done.withLock { $0 = true } })
    }

    func finish() -> String {
        process.waitUntilExit()
        let drained = Deadline(after: .seconds(5))
        while !done.withLock({ $0 }) && !drained.hasPassed { usleep(2_000) }
        return String(decoding: output.withLock { $0 }, as: UTF8.self)
    }
}
