import EdgeCommon
#if canImport(Glibc)
    import Glibc
#endif

/// An AT port opened exclusively (TIOCEXCL + flock), raw, non-blocking, read with poll(2) and a
/// deadline. Owns its file descriptor; not shared between threads.
final class SerialPort {
    let path: String
    private let fd: Int32
    private var pending: [UInt8] = []

    init(path: String, baudRate: Int) throws(ModemIdentityError) {
        self.path = path
        let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case EACCES, EPERM: throw .portPermissionDenied(port: path)
            case ENOENT, ENODEV, ENXIO: throw .portNotFound(port: path)
            case EBUSY: throw .portBusy(port: path)
            default: throw .ioError(operation: "open \(path)", errno: code)
            }
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw .portBusy(port: path)
        }
        _ = ioctl(fd, UInt(TIOCEXCL))
        var options = termios()
        if tcgetattr(fd, &options) == 0 {
            cfmakeraw(&options)
            options.c_cflag |= tcflag_t(CLOCAL | CREAD)
            let speed = SerialPort.speed(baudRate)
            cfsetispeed(&options, speed)
            cfsetospeed(&options, speed)
            tcsetattr(fd, TCSANOW, &options)
            tcflush(fd, TCIOFLUSH)
        }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    func write(_ text: String) throws(ModemIdentityError) {
        var bytes = Array(text.utf8)
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN {
                    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pfd, 1, 100)
                    continue
                }
                throw .ioError(operation: "write \(path)", errno: errno)
            }
            bytes.removeFirst(written)
        }
    }

    /// The next non-empty line (CR and LF both end a line), or nil at the deadline.
    func readLine(until deadline: Deadline) throws(ModemIdentityError) -> String? {
        while true {
            if let end = pending.firstIndex(where: { $0 == 0x0D || $0 == 0x0A }) {
                let line = String(decoding: pending[..<end], as: UTF8.self).trimmingBlanks()
                pending.removeSubrange(...end)
                if line.isEmpty { continue }
                return line
            }
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining, 1000)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .ioError(operation: "poll \(path)", errno: errno)
            }
            if ready == 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                pending += buffer[0..<count]
            } else if count < 0, errno != EAGAIN, errno != EINTR {
                throw .ioError(operation: "read \(path)", errno: errno)
            } else if count == 0 || pfd.revents & Int16(POLLHUP) != 0 {
                // Hang-up (the pty's other side is not open yet): wait a little instead of spinning.
                usleep(10_000)
            }
        }
    }

    /// Reads and returns whatever lines are already waiting (URCs between commands).
    func drain() throws(ModemIdentityError) -> [String] {
        var lines: [String] = []
        let deadline = Deadline(after: .milliseconds(20))
        while let line = try readLine(until: deadline) { lines.append(line) }
        return lines
    }

    static func speed(_ baud: Int) -> speed_t {
        switch baud {
        case 9600: return speed_t(B9600)
        case 19200: return speed_t(B19200)
        case 38400: return speed_t(B38400)
        case 57600: return speed_t(B57600)
        case 230400: return speed_t(B230400)
        case 460800: return speed_t(B460800)
        case 921600: return speed_t(B921600)
        default: return speed_t(B115200)
        }
    }
}
