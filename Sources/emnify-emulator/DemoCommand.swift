import ArgumentParser
import EmnifyEmulator
import Foundation

/// The main job end to end with nothing but this machine: the emulator stands in for emnify,
/// a private mosquitto for the gateway's broker, and the real `emnify-edge run` connects them.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run emnify-edge end to end against the built-in emulator and a private mosquitto.",
        discussion: """
            Needs the emnify-edge binary next to this one (swift build builds both) and mosquitto and \
            mosquitto_sub (Debian packages mosquitto and mosquitto-clients). No emnify account is needed.
            """
    )

    @Option(help: "How long to run, in seconds.") var duration = 25
    @Option(help: "New emulated events per minute.") var eventRate: Double = 12

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emnify-edge-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let edge = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("emnify-edge").path
        guard FileManager.default.isExecutableFile(atPath: edge) else {
            throw ValidationError("no emnify-edge binary at \(edge): run 'swift build' first")
        }
        for tool in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto_sub"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw ValidationError("\(tool) is missing: sudo apt-get install mosquitto mosquitto-clients")
        }

        step("1. Starting the emnify emulator over HTTPS (throwaway CA, 40 past events, \(Int(eventRate)) new per minute)")
        let token = "demo-application-token"
        let emulator = try await EmulatorServer.start(
            .init(tls: .selfSigned, applicationToken: token, history: 40, eventRate: eventRate))
        try emulator.writeCACertificate(to: directory + "/ca.pem")
        print("   \(emulator.baseURL)  SIM ICCID \(emulator.iccid), endpoint \(emulator.endpointID.map(String.init) ?? "none")")

        step("2. Starting a private mosquitto on loopback")
        let port = try freePort()
        try "listener \(port) 127.0.0.1\nallow_anonymous true\n".write(toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        let broker = try launch("/usr/sbin/mosquitto", ["-c", directory + "/mosquitto.conf"], output: directory + "/mosquitto.log")
        defer { broker.terminate() }
        try await Task.sleep(for: .milliseconds(500))
        print("   127.0.0.1:\(port)")

        step("3. Subscribing to emnify/# (what an application on the gateway sees)")
        let subscriber = Process()
        subscriber.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_sub")
        subscriber.arguments = ["-h", "127.0.0.1", "-p", String(port), "-v", "-t", "emnify/#"]
        let pipe = Pipe()
        subscriber.standardOutput = pipe
        let lines = LineBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            for line in lines.append(handle.availableData) {
                print("   MQTT " + String(line.prefix(150)) + (line.count > 150 ? "…" : ""))
            }
        }
        try subscriber.run()
        defer { subscriber.terminate() }

        step("4. Running emnify-edge run (poll every 5 s; logs below)")
        let config = """
            [api]
            url = "\(emulator.baseURL)"
            ca_file = "\(directory)/ca.pem"
            token_file = "\(directory)/application-token"

            [modem]
            source = "static"
            iccid = "\(emulator.iccid)"

            [agent]
            state_dir = "\(directory)/state"
            poll_interval = "5s"
            backfill = "1h"

            [mqtt]
            host = "127.0.0.1"
            port = \(port)
            """
        try config.write(toFile: directory + "/emnify-edge.toml", atomically: true, encoding: .utf8)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: edge)
        agent.arguments = ["run", "--config", directory + "/emnify-edge.toml"]
        agent.environment = ["EMNIFY_APPLICATION_TOKEN": token, "PATH": "/usr/bin:/bin"]
        try agent.run()

        try await Task.sleep(for: .seconds(max(5, duration / 2)))
        step("5. Resetting the data session through the API, as `diagnose --reset-connectivity pdp` would")
        await emulator.control.resetConnectivity(location: false, pdpContext: true)
        try await Task.sleep(for: .seconds(max(5, duration - duration / 2)))

        step("6. Stopping emnify-edge (SIGTERM): it publishes 'offline' and saves its cursor")
        agent.terminate()
        agent.waitUntilExit()
        try await Task.sleep(for: .milliseconds(500))
        let counters = await emulator.control.counters()
        step("Done: \(counters.totalRequests) API requests, \(counters.authentications) authentication, exit code \(agent.terminationStatus)")
        await emulator.stop()
    }

    private func step(_ text: String) {
        print("\n== \(text)")
    }

    private func launch(_ path: String, _ arguments: [String], output: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ValidationError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Joins pipe reads into whole lines (a long MQTT payload arrives in several reads).
private final class LineBuffer: @unchecked Sendable {
    // @unchecked: only the pipe's readability handler, one at a time, touches `pending`.
    private var pending = Data()

    func append(_ data: Data) -> [String] {
        pending.append(data)
        var lines: [String] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...newline)
        }
        return lines
    }
}
