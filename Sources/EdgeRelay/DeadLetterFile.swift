import EdgeCommon
import FoundationEssentials
import Glibc

/// Where elements of a webhook request that cannot be published go: one JSON line each in
/// `<state_dir>/dead-letter.jsonl` with the time, the reason and the element as received, so
/// nothing the Data Streamer sent is lost and an operator can replay it once fixed. A poison
/// element must not make the streamer retry its whole request for ever, so the request still
/// succeeds. Past `maxBytes` the file moves to `dead-letter.jsonl.1` (the one before is dropped):
/// a flood of garbage cannot fill the disk.
public final class DeadLetterFile: Sendable {
    public let path: String
    public let maxBytes: Int
    private let lock = Locked(())

    public init(directory: String, maxBytes: Int = 64 * 1024 * 1024) {
        self.path = directory + "/dead-letter.jsonl"
        self.maxBytes = maxBytes
    }

    /// Appends one line per element; throws when the file cannot be written (the caller then
    /// answers 503 so the streamer sends the request again: nothing may vanish).
    public func append(_ rejected: [(reason: String, raw: [UInt8])], receivedAtMillis: Int64) throws(FileError) {
        guard !rejected.isEmpty else { return }
        struct Line: Encodable {
            var received: String
            var reason: String
            var element: String?
            var element_base64: String?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text: [UInt8] = []
        for item in rejected {
            let element = String(validating: item.raw, as: UTF8.self)
            let line = Line(
                received: TimestampText.format(milliseconds: receivedAtMillis), reason: item.reason, element: element,
                element_base64: element == nil ? Data(item.raw).base64EncodedString() : nil)
            // Encoding strings cannot fail.
            text += (try? encoder.encode(line)).map(Array.init) ?? []
            text.append(UInt8(ascii: "\n"))
        }
        try lock.withLock { _ throws(FileError) in
            try rotateIfFull(adding: text.count)
            try Self.append(text, to: path)
        }
    }

    private func rotateIfFull(adding count: Int) throws(FileError) {
        var info = stat()
        guard stat(path, &info) == 0, Int(info.st_size) + count > maxBytes else { return }
        if rename(path, path + ".1") != 0 { throw FileError(path: path, operation: "rename", errno: errno) }
    }

    private static func append(_ bytes: [UInt8], to path: String) throws(FileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "write", errno: errno)
            }
            offset += written
        }
        // The request is answered 2xx after this: the lines must survive a power cut.
        if fsync(fd) != 0 { throw FileError(path: path, operation: "fsync", errno: errno) }
    }
}
