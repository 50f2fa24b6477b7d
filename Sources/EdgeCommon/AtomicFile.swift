#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file so that after a crash or power loss it holds either the old or the new
/// content, never a mix: temp file in the same directory, fsync, rename, fsync of the
/// directory (without the last step the rename itself may be lost on power failure).
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(FileError) {
        let directory = parentDirectory(of: path)
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(path: temporary, operation: "create", errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        // open() applies the umask; make the mode exact (secrets must be 0600 whatever the umask).
        fchmod(fd, mode)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                throw FileError(path: temporary, operation: "write", errno: code)
            }
            offset += written
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            throw FileError(path: temporary, operation: "fsync", errno: code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw FileError(path: path, operation: "rename", errno: errno) }
        ok = true
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o600) throws(FileError) {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// Reads whole (small) files: configuration, tokens, state.
public enum FileReader {
    /// Reads at most `limit` bytes; a larger file is an error, not a truncated read.
    public static func read(_ path: String, limit: Int = 16 * 1024 * 1024) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "read", errno: errno)
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
            if result.count > limit { throw FileError(path: path, operation: "read", errno: EFBIG) }
        }
        return result
    }

    public static func readText(_ path: String, limit: Int = 16 * 1024 * 1024) throws(FileError) -> String {
        String(decoding: try read(path, limit: limit), as: UTF8.self)
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}

/// A failed file operation, with the system's reason and what to do about the common ones.
public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let errno: Int32

    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    public var isMissing: Bool { errno == ENOENT }

    public var description: String {
        let reason = String(cString: strerror(errno))
        var text = "cannot \(operation) \(path): \(reason)"
        switch errno {
        case EACCES, EPERM: text += " (check the file's owner and mode, and which user runs emnify-edge)"
        case ENOSPC, EDQUOT: text += " (the disk is full: free space on that filesystem)"
        case EROFS: text += " (the filesystem is read-only: use a writable state directory)"
        case EFBIG: text += " (the file is larger than expected)"
        default: break
        }
        return text
    }
}
