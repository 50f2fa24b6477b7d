#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small text file read in one go with its permission bits: the configuration, the
/// token and password files. POSIX calls directly, so that errors keep their errno.
struct TextFile {
    let path: String
    let text: String
    /// Permission bits (`st_mode & 0o7777`).
    let mode: UInt32
    let owner: UInt32

    enum Failure: Error, Equatable {
        case notFound
        case permissionDenied
        case isDirectory
        case tooLarge(limit: Int)
        case notUTF8
        case other(String)

        /// Why, for a message that also names the file.
        var reason: String {
            switch self {
            case .notFound: return "no such file"
            case .permissionDenied: return "permission denied (check the file's owner and mode, and the service user)"
            case .isDirectory: return "it is a directory, not a file"
            case .tooLarge(let limit): return "it is larger than \(limit) bytes"
            case .notUTF8: return "it is not UTF-8 text"
            case .other(let text): return text
            }
        }
    }

    static func load(_ path: String, limit: Int = 1 << 20) -> Result<TextFile, Failure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(failure(errno)) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(failure(errno)) }
        if (status.st_mode & S_IFMT) == S_IFDIR { return .failure(.isDirectory) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(failure(errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > limit { return .failure(.tooLarge(limit: limit)) }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.notUTF8) }
        return .success(
            TextFile(path: path, text: text, mode: UInt32(status.st_mode) & 0o7777, owner: UInt32(status.st_uid))
        )
    }

    private static func failure(_ code: Int32) -> Failure {
        switch code {
        case ENOENT, ENOTDIR: return .notFound
        case EACCES, EPERM: return .permissionDenied
        case EISDIR: return .isDirectory
        default: return .other(String(cString: strerror(code)))
        }
    }
}
