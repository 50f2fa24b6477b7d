import EdgeMQTT
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
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Starts `mosquitto_sub` in the background; `finish()` waits for it (it ends by -C or -W) and returns its output.
final class BackgroundClient: @unchecked Sendable {
    // @unchecked Sendable: `process` and `pipe` are set in init and only read afterwards.
    let process = Process()
    let pipe = Pipe()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_sub")
        process.arguments = arguments
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func finish() -> String {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
