import Dispatch
import EdgeCommon

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM and SIGINT taken over from their default action (which would end the process
/// without cleaning up): they are recorded, and whoever waits is woken.
final class TerminationSignals: Sendable {
    private struct State {
        var received: Int32?
        var waiting: [CheckedContinuation<Int32, Never>] = []
    }

    private let state = Locked(State())
    private let sources: Locked<[any DispatchSourceSignal]> = Locked([])

    init(_ signals: [Int32] = [SIGTERM, SIGINT]) {
        let queue = DispatchQueue(label: "emnify-emulator.signals")
        var made: [any DispatchSourceSignal] = []
        for signalNumber in signals {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [state] in
                let waiting = state.withLock { state -> [CheckedContinuation<Int32, Never>] in
                    if state.received == nil { state.received = signalNumber }
                    defer { state.waiting = [] }
                    return state.waiting
                }
                waiting.forEach { $0.resume(returning: signalNumber) }
            }
            source.resume()
            made.append(source)
        }
        sources.withLock { $0 = made }
    }

    /// The first signal received, if any.
    var received: Int32? { state.withLock { $0.received } }

    /// Returns the first signal, waiting for it if none has come yet.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state -> Int32? in
                if let received = state.received { return received }
                state.waiting.append(continuation)
                return nil
            }
            if let already { continuation.resume(returning: already) }
        }
    }

    /// Sleeps for `duration`, or less when a signal comes first; returns the signal then.
    func sleep(for duration: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            if let received { return received }
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
        return received
    }
}
