import EdgeProcess
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `/usr/sbin/mosquitto` on a free loopback port, with a temporary configuration, for tests.
///
/// `@unchecked Sendable`: the mutable `process` is only touched under `lock`.
public final class MosquittoBroker: @unchecked Sendable {
    public struct Options: Sendable {
        /// user → password; when not empty, anonymous clients are refused (`mosquitto_passwd -b -c`).
        public var users: [String: String]
        /// Broker persistence (sessions and queued messages survive a SIGTERM restart).
        public var persistence: Bool
        /// Extra lines for mosquitto.conf.
        public var extraConfiguration: [String]

        public init(users: [String: String] = [:], persistence: Bool = false, extraConfiguration: [String] = []) {
            self.users = users
            self.persistence = persistence
            self.extraConfiguration = extraConfiguration
        }
    }

    public static let executable = "/usr/sbin/mosquitto"
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    public let options: Options
    public private(set) var port: Int = 0
    public let directory: URL
    private let lock = NSLock()
    private var process: LaunchedProcess?

    public init(options: Options = Options()) throws {
        self.options = options
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mosquitto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if !options.users.isEmpty { try writePasswordFile() }
        var lastError: (any Error)?
        for _ in 0..<5 {
            port = try Self.freePort()
            do {
                try start()
                return
            } catch {
                lastError = error  // port taken between probing and binding: try another
            }
        }
        throw lastError ?? BrokerError("mosquitto did not start")
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    public var logFile: URL { directory.appendingPathComponent("mosquitto.log") }

    /// Starts (or restarts) on the same port and waits until it accepts TCP connections. A broker
    /// of this object's that still runs is killed first: left running, it would keep the port,
    /// and the new one would fail while the tests talk to the old one unawares.
    public func start() throws {
        kill()
        try writeConfiguration()
        // EdgeProcess's launcher: signals unblocked (SIGTERM is a graceful stop that saves the
        // persistence file), and the broker dies with the test process however that ends.
        let process = try LaunchedProcess.launch(
            Self.executable, ["-c", directory.appendingPathComponent("mosquitto.conf").path], directory: directory.path,
            standardOutput: .null, standardError: .null)
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if Self.accepts(port: port) { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        kill()
        let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        throw BrokerError("mosquitto did not accept connections on port \(port): \(log.suffix(500))")
    }

    /// SIGTERM (mosquitto saves its persistence file), then SIGKILL if it is still running after 3 s.
    /// Returns whether SIGTERM was enough.
    @discardableResult
    public func stop() -> Bool {
        guard let process = lock.withLock({ self.process }) else { return true }
        process.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        let graceful = !process.isRunning
        kill()
        return graceful
    }

    /// SIGSTOP / SIGCONT: a frozen broker keeps its connections but reads and answers nothing.
    public func freeze(_ frozen: Bool) {
        lock.withLock { self.process }?.signal(frozen ? SIGSTOP : SIGCONT)
    }

    /// SIGKILL: the broker dies at once, without saving anything.
    public func kill() {
        guard
            let process = lock.withLock({ () -> LaunchedProcess? in
                defer { self.process = nil }
                return self.process
            })
        else {
            return
        }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    public func restart() throws {
        stop()
        try start()
    }

    public var isRunning: Bool { lock.withLock { process }?.isRunning ?? false }

    // MARK: - Files

    private func writeConfiguration() throws {
        var lines = [
            "listener \(port) 127.0.0.1",
            "log_dest file \(logFile.path)",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "max_queued_messages 100000",
        ]
        // As root, mosquitto would switch to the user "mosquitto", which cannot write this temporary directory.
        if geteuid() == 0 { lines.append("user root") }
        if options.users.isEmpty {
            lines.append("allow_anonymous true")
        } else {
            lines += ["allow_anonymous false", "password_file \(directory.appendingPathComponent("passwd").path)"]
        }
        if options.persistence {
            lines += [
                "persistence true", "persistence_location \(directory.path)/",
                "autosave_interval 1", "autosave_on_changes true",
            ]
        } else {
            lines.append("persistence false")
        }
        lines += options.extraConfiguration
        try (lines.joined(separator: "\n") + "\n").write(
            to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
    }

    private func writePasswordFile() throws {
        let file = directory.appendingPathComponent("passwd").path
        for (index, (user, password)) in options.users.sorted(by: { $0.key < $1.key }).enumerated() {
            let tool = try ProcessRunner.run(
                executable: "/usr/bin/mosquitto_passwd",
                arguments: (index == 0 ? ["-c"] : []) + ["-b", file, user, password],
                timeout: .seconds(30))
            guard tool.status == 0 else { throw BrokerError("mosquitto_passwd failed") }
        }
    }

    // MARK: - Ports

    /// A port the kernel just handed out for 127.0.0.1 (bind to 0, read it back, close).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BrokerError("socket() failed") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw BrokerError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

public struct BrokerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
