import Dispatch
#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP as an async sequence, so the daemon decides what they mean:
/// finish in-flight publishes and exit (TERM, INT), or reload (HUP).
///
/// A real handler writes the signal number into a pipe (the self-pipe trick: `write` is
/// async-signal-safe) and a dispatch source reads it. Ignoring the signals and using a dispatch
/// signal source is not enough on Linux: an ignored signal is discarded before anyone sees it,
/// and blocking it would have to happen in every thread, including the runtime's.
///
/// Kept instead of `ServiceGroup`'s signal handling, which does just that (`SIG_IGN` plus a
/// dispatch source) and exists only while a group runs: the daemon must own SIGTERM and SIGHUP
/// from its first instruction, through the start (reading the modem, connecting, which can take
/// minutes) and across reloads, each of which is a new group; and SIGHUP means "validate, then
/// replace the group", which a group cannot do to itself.
enum Signals {
    static func stream(_ numbers: [Int32]) -> AsyncStream<Int32> {
        SignalPipe.shared.install(numbers)
        return AsyncStream { continuation in
            let token = SignalPipe.shared.subscribe { continuation.yield($0) }
            continuation.onTermination = { _ in SignalPipe.shared.unsubscribe(token) }
        }
    }
}

nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

private let forwardSignal: @convention(c) (Int32) -> Void = { number in
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteEnd, &byte, 1)
}

/// The process-wide pipe and its subscribers.
// @unchecked Sendable: `subscribers` and `installed` are only touched on `queue`.
private final class SignalPipe: @unchecked Sendable {
    static let shared = SignalPipe()

    private let queue = DispatchQueue(label: "emnify-edge.signals")
    private var subscribers: [Int: (Int32) -> Void] = [:]
    private var nextToken = 0
    private var installed: Set<Int32> = []
    private let source: any DispatchSourceRead

    private init() {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        signalPipeWriteEnd = fds[1]
        let readEnd = fds[0]
        source = DispatchSource.makeReadSource(fileDescriptor: readEnd, queue: queue)
        source.setEventHandler { [unowned self] in
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = read(readEnd, &buffer, buffer.count)
            guard count > 0 else { return }
            for byte in buffer[0..<count] {
                for subscriber in self.subscribers.values { subscriber(Int32(byte)) }
            }
        }
        source.resume()
    }

    func install(_ numbers: [Int32]) {
        queue.sync {
            for number in numbers where installed.insert(number).inserted {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = forwardSignal
                action.sa_flags = SA_RESTART
                sigemptyset(&action.sa_mask)
                sigaction(number, &action, nil)
            }
        }
    }

    func subscribe(_ handler: @escaping (Int32) -> Void) -> Int {
        queue.sync {
            nextToken += 1
            subscribers[nextToken] = handler
            return nextToken
        }
    }

    func unsubscribe(_ token: Int) {
        queue.async { self.subscribers[token] = nil }
    }
}
