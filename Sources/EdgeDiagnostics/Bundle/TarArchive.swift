import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// A ustar archive (POSIX.1-1988) of regular files, written in memory: 512-byte header, the
/// content padded to 512 bytes, and two zero blocks at the end. Names up to 100 bytes.
struct TarArchive {
    private(set) var bytes: [UInt8] = []

    mutating func add(_ name: String, _ content: [UInt8], mode: Int = 0o600, modified: Int64) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        /// Octal, zero padded to `width - 1` digits and NUL terminated.
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)  // uid
        octal(0, at: 116, width: 8)  // gid
        octal(Int64(content.count), at: 124, width: 12)
        octal(modified, at: 136, width: 12)
        put("        ", at: 148, width: 8)  // checksum is computed with blanks here
        header[156] = UInt8(ascii: "0")  // regular file
        put("ustar", at: 257, width: 6)  // magic "ustar\0"
        put("00", at: 263, width: 2)  // version
        put("root", at: 265, width: 32)
        put("root", at: 297, width: 32)
        let sum = header.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, at: 148, width: 6)
        header[154] = 0
        header[155] = UInt8(ascii: " ")
        bytes += header
        bytes += content
        let padding = (512 - content.count % 512) % 512
        bytes += [UInt8](repeating: 0, count: padding)
    }

    /// The archive with its end marker.
    var finished: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }
}
