import ArgumentParser
import EdgeCommon
import EdgeProcess
import EmnifyEmulator
import Foundation

/// The main job end to end with nothing but this machine: the emulator stands in for emnify,
/// a private mosquitto for the gateway's broker, and the real `emnify-edge run` connects them.
///
/// Every child is started by EdgeProcess's launcher in a process group of its own (a terminal's
/// Ctrl-C reaches only the demo, which then stops them in order: the agent first, so that its
/// `offline` is seen) and dies with the demo if the demo is killed outright.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run emnify-edge end to end against the built-in emulator and a private mosquitto.",
        discussion: """
            Needs the emnify-edge binary next to this one (swift build builds both) and mosquitto and \
            mosquitto_sub (Debian packages mosquitto and mosquitto-clients). No emnify account is needed. \
            Ctrl-C stops it early, with everything it started.
            """
    )

    @Option(help: "How long to run, in seconds.") var duration = 25
    @Option(help: "New emulated events per minute.") var eventRate: Double = 12

    func validate() throws {
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard eventRate >= 0 else { throw ValidationError("--event-rate must not be negative") }
    }

    func run() async throws {
        let signals = TerminationSignals()
        let edge = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("emnify-edge").path
        guard FileManager.default.isExecutableFile(atPath: edge) else {
            throw ValidationError("no emnify-edge binary at \(edge): run 'swift build' first")
        }
        for tool in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto_sub"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw ValidationError(
                "\(tool) is missing: run scripts/setup (or apt-get install mosquitto mosquitto-clients)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emnify-edge-demo-\(getpid())")
            .path
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let children = DemoChildren()
        var emulator: EmulatorServer?
        var outcome: String
        do {
            outcome = try await play(edge: edge, directory: directory, signals: signals, children: children) {
                emulator = $0
            }
        } catch {
            outcome = "failed: \(error)"
        }
        // However the demo ended: the agent first (it publishes `offline` and saves its cursor), then the rest.
        if let agent = children.agent {
            step("Stopping emnify-edge (SIGTERM): it publishes 'offline' and saves its cursor")
            let ended = await agent.stop(grace: .seconds(10))
            outcome += ", emnify-edge exit code \(ended.exitCode)"
            try? await Task.sleep(for: .milliseconds(500))  // let the subscriber print `offline`
        }
        for child in children.others.reversed() { await child.stop() }
        let counters = await emulator?.control.counters()
        await emulator?.stop()
        let requests = counters.map { ", \($0.totalRequests) API requests, \($0.authentications) authentication" } ?? ""
        step("Done: \(outcome)\(requests)")
        if let received = signals.received { throw ExitCode(128 + received) }
    }

    /// The steps; returns a word on how they ended. Children go into `children` as they start.
    private func play(
        edge: String, directory: String, signals: TerminationSignals, children: DemoChildren,
        started: (EmulatorServer) -> Void
    ) async throws -> String {
        step(
            "1. Starting the emnify emulator over HTTPS (throwaway CA, 40 past events, \(Int(eventRate)) new per minute)"
        )
        let token = "demo-application-token"
        let emulator = try await EmulatorServer.start(
            .init(tls: .selfSigned, applicationToken: token, history: 40, eventRate: eventRate))
        started(emulator)
        try emulator.writeCACertificate(to: directory + "/ca.pem")
        say(
            "   \(emulator.baseURL)  SIM ICCID \(emulator.iccid), endpoint \(emulator.endpointID.map(String.init) ?? "none")"
        )

        step("2. Starting a private mosquitto on loopback")
        let port = try freePort()
        // As root, mosquitto would switch to the user mosquitto, and a process that changes its
        // credentials loses its parent-death signal: it would outlive a killed demo.
        let user = geteuid() == 0 ? "user root\n" : ""
        try "listener \(port) 127.0.0.1\nallow_anonymous true\n\(user)".write(
            toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        let broker = try children.start(
            "/usr/sbin/mosquitto", ["-c", directory + "/mosquitto.conf"],
            output: .file(directory + "/mosquitto.log"))
        try await waitUntilAccepting(port: port, broker: broker, log: directory + "/mosquitto.log")
        say("   127.0.0.1:\(port)")

        step("3. Subscribing to emnify/# (what an application on the gateway sees)")
        let subscriber = try children.start(
            "/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", String(port), "-v", "-t", "emnify/#"], output: .pipe)
        let lines = LineBuffer()
        PipeReader.start(
            subscriber.standardOutput!, owner: subscriber,
            onData: { bytes in
                for line in lines.append(bytes) {
                    say("   MQTT " + String(line.prefix(150)) + (line.count > 150 ? "…" : ""))
                }
            }, onEnd: {})

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
        children.agent = try LaunchedProcess.launch(
            edge, ["run", "--config", directory + "/emnify-edge.toml"],
            environment: ["EMNIFY_APPLICATION_TOKEN": token, "PATH": "/usr/bin:/bin"], newProcessGroup: true)

        if let signal = await signals.sleep(for: .seconds(max(5, duration / 2))) { return interrupted(signal) }
        step("5. Resetting the data session through the API, as `diagnose --reset-connectivity pdp` would")
        await emulator.control.resetConnectivity(location: false, pdpContext: true)
        if let signal = await signals.sleep(for: .seconds(max(5, duration - duration / 2))) {
            return interrupted(signal)
        }
        return "ran \(duration) s"
    }

    private func interrupted(_ signal: Int32) -> String {
        "interrupted by \(signal == SIGINT ? "Ctrl-C" : "signal \(signal)")"
    }

    private func step(_ text: String) {
        say("\n== \(text)")
    }

    private func waitUntilAccepting(port: Int, broker: LaunchedProcess, log: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if accepts(port: port) { return }
            if !broker.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw ValidationError("mosquitto did not start on 127.0.0.1:\(port): \(text.suffix(400))")
    }

    private func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: 0)
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ValidationError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}

/// One line on stdout, written at once (not held in a buffer when stdout is a pipe) and whole
/// (the subscriber's lines come from a thread of their own).
private func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if written <= 0 && errno != EINTR { return }
        offset += max(0, written)
    }
}

/// What the demo started, for the stop at the end.
private final class DemoChildren: @unchecked Sendable {
    // @unchecked: only the demo's own task touches these, one step after another.
    var agent: LaunchedProcess?
    private(set) var others: [LaunchedProcess] = []

    func start(_ executable: String, _ arguments: [String], output: StandardStream) throws -> LaunchedProcess {
        let child = try LaunchedProcess.launch(
            executable, arguments, standardOutput: output, standardError: .null, newProcessGroup: true)
        others.append(child)
        return child
    }
}

/// Joins pipe reads into whole lines (a long MQTT payload arrives in several reads).
private final class LineBuffer: Sendable {
    private let pending = Locked<[UInt8]>([])

    func append(_ bytes: [UInt8]) -> [String] {
        pending.withLock { pending in
            pending += bytes
            var lines: [String] = []
            while let newline = pending.firstIndex(of: 0x0A) {
                lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
            return lines
        }
    }
}
