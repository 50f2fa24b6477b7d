import EdgeProcess
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `firmware-config/mosquitto/emnify-edge.conf` in a real mosquitto, included the way Debian's
/// mosquitto.conf includes /etc/mosquitto/conf.d (which already sets persistence_location).
@Suite(.serialized) struct MosquittoSnippetTests {
    static let mosquitto = "/usr/sbin/mosquitto"
    static let publish = "/usr/bin/mosquitto_pub"
    static let subscribe = "/usr/bin/mosquitto_sub"
    static var available: Bool { Tool.exists(mosquitto) && Tool.exists(publish) && Tool.exists(subscribe) }
    static let snippetPath = "firmware-config/mosquitto/emnify-edge.conf"

    @Test func listensOnLoopbackOnly() throws {
        let listeners = try RepositoryFiles.text(Self.snippetPath).split(separator: "\n")
            .filter { $0.hasPrefix("listener ") || $0.hasPrefix("port ") }
        #expect(listeners == ["listener 1883 127.0.0.1"])
    }

    /// The broker starts with the snippet and keeps a retained message for a later subscriber.
    @Test func brokerStartsAndRetains() throws {
        try #require(Self.available, "apt-get install mosquitto mosquitto-clients")
        let broker = try Broker(snippet: try Self.snippet(port: nil))
        defer { broker.stop() }
        try Self.pub(port: broker.port, topic: "emnify/8988303000001234567/state", message: "online")
        let received = try Tool.run(
            Self.subscribe,
            ["-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "emnify/+/state", "-C", "1", "-W", "5"])
        #expect(received.output == "online\n", "\(received.output)")
    }

    /// The commented bridge example, uncommented and pointed (without TLS) at a second local
    /// mosquitto playing the cloud broker, forwards the gateway's topics under fleet/gateway-1/.
    @Test func bridgeExampleForwardsEvents() throws {
        try #require(Self.available, "apt-get install mosquitto mosquitto-clients")
        let cloud = try Broker(snippet: try Self.snippet(port: nil))
        defer { cloud.stop() }
        var bridged = try Self.snippet(port: nil).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        guard let start = bridged.firstIndex(of: "# connection emnify-fleet") else {
            Issue.record("no bridge example")
            return
        }
        for index in start..<bridged.count where bridged[index].hasPrefix("# ") {
            let line = String(bridged[index].dropFirst(2))
            if line.hasPrefix("#") { bridged[index] = ""; continue }  // a comment inside the example
            switch line.split(separator: " ").first ?? "" {
            case "address": bridged[index] = "address 127.0.0.1:\(cloud.port)"
            case "bridge_capath", "bridge_insecure", "remote_username", "remote_password": bridged[index] = ""
            default: bridged[index] = line
            }
        }
        let gateway = try Broker(snippet: bridged.joined(separator: "\n"))
        defer { gateway.stop() }
        try Self.pub(port: gateway.port, topic: "emnify/8988303000001234567/event/attach", message: "{}")
        let received = try Tool.run(
            Self.subscribe,
            [
                "-h", "127.0.0.1", "-p", "\(cloud.port)", "-t", "fleet/gateway-1/emnify/#", "-v", "-C", "1", "-W",
                "15",
            ])
        #expect(received.output == "fleet/gateway-1/emnify/8988303000001234567/event/attach {}\n", "\(received.output)")
    }

    static func snippet(port: Int?) throws -> String { try RepositoryFiles.text(snippetPath) }

    static func pub(port: Int, topic: String, message: String) throws {
        let result = try Tool.run(
            publish, ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-r", "-t", topic, "-m", message])
        #expect(result.status == 0, "\(result.output)")
    }

    /// mosquitto with a Debian-like main configuration that includes the snippet, whose
    /// listener is moved to a free port.
    final class Broker {
        let port: Int
        let directory: URL
        let process: LaunchedProcess

        init(snippet: String) throws {
            directory = try RepositoryFiles.temporaryDirectory("mosquitto-snippet")
            port = try Self.freePort()
            let conf = directory.appendingPathComponent("conf.d")
            try FileManager.default.createDirectory(at: conf, withIntermediateDirectories: true)
            let moved = snippet.replacingOccurrences(
                of: "listener 1883 127.0.0.1", with: "listener \(port) 127.0.0.1")
            try moved.write(to: conf.appendingPathComponent("emnify-edge.conf"), atomically: true, encoding: .utf8)
            var main = [
                "persistence true", "persistence_location \(directory.path)/",
                "log_dest file \(directory.path)/mosquitto.log", "include_dir \(conf.path)",
            ]
            if geteuid() == 0 { main.append("user root") }  // else it would switch to the user mosquitto
            try (main.joined(separator: "\n") + "\n").write(
                to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
            process = try LaunchedProcess.launch(
                MosquittoSnippetTests.mosquitto, ["-c", directory.appendingPathComponent("mosquitto.conf").path],
                standardOutput: .null, standardError: .null)
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, process.isRunning, !Self.accepts(port: port) { usleep(20_000) }
            guard process.isRunning, Self.accepts(port: port) else {
                let log = (try? String(contentsOf: directory.appendingPathComponent("mosquitto.log"), encoding: .utf8))
                stop()
                throw BrokerError(description: "mosquitto did not start: \(log ?? "")")
            }
        }

        func stop() {
            process.signal(SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }

        static func freePort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard bound else { throw BrokerError(description: "no free port") }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        static func accepts(port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }
    }

    struct BrokerError: Error, CustomStringConvertible { let description: String }
}
