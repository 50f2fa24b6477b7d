import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Plays a broker that only speaks MQTT 3.1.1: a CONNECT with protocol level 5 gets the 3.1.1 CONNACK
/// "unacceptable protocol version" (20 02 00 01) and the connection is closed; any other connection is relayed
/// byte for byte to the real broker. (mosquitto 2.0 cannot be configured to refuse MQTT 5.)
///
/// `@unchecked Sendable`: `refusedV5` is only touched under `lock`; the descriptors are immutable.
final class MQTT311OnlyProxy: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let targetPort: Int
    private let lock = NSLock()
    private var refused = 0

    var refusedV5: Int { lock.withLock { refused } }

    init(targetPort: Int) throws {
        self.targetPort = targetPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        listener = fd
        guard ok else { throw BrokerError("proxy listen failed") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { close() }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received: [UInt8] = []
        // Fixed header, remaining length (1..4 bytes), protocol name (2 + 4: "MQTT"), protocol level.
        while true {
            if let level = Self.protocolLevel(received) {
                if level == 5 {
                    lock.withLock { refused += 1 }
                    _ = [UInt8]([0x20, 0x02, 0x00, 0x01]).withUnsafeBytes { write(client, $0.baseAddress, 4) }
                    Glibc.close(client)
                    return
                }
                break
            }
            let count = read(client, &buffer, buffer.count)
            if count <= 0 {
                Glibc.close(client)
                return
            }
            received += buffer[0..<count]
        }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: targetPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            Glibc.close(client)
            Glibc.close(upstream)
            return
        }
        _ = received.withUnsafeBytes { write(upstream, $0.baseAddress, $0.count) }
        Thread.detachNewThread { Self.pump(from: upstream, to: client) }
        Self.pump(from: client, to: upstream)
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(source, &buffer, buffer.count)
            if count <= 0 { break }
            var offset = 0
            while offset < count {
                let written = buffer[offset..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                offset += written
            }
        }
        shutdown(destination, Int32(SHUT_RDWR))
        shutdown(source, Int32(SHUT_RDWR))
    }

    static func protocolLevel(_ bytes: [UInt8]) -> UInt8? {
        var index = 1
        while index < bytes.count, bytes[index] & 0x80 != 0 { index += 1 }
        let levelIndex = index + 1 + 2 + 4
        return levelIndex < bytes.count ? bytes[levelIndex] : nil
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
