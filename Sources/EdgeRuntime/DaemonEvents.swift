#if canImport(Glibc)
    import Glibc
#endif

/// Everything the daemon reacts to, in one queue that one task reads: signals, the end of a start,
/// the end of a poll loop. One queue for the whole run, so that no signal is lost between starting,
/// running and reloading (a stream per phase dropped what came in between).
public enum DaemonEvent: Sendable {
    case signal(Int32)
    /// `AgentSession.start` of this generation ended.
    case started(generation: Int, Result<AgentSession, any Error>)
    /// The poll loop of this generation ended by itself (the SIM changed).
    case loopEnded(generation: Int, reason: String)
}

public final class DaemonEvents: Sendable {
    private let stream: AsyncStream<DaemonEvent>
    private let continuation: AsyncStream<DaemonEvent>.Continuation
    private let forwarder: Task<Void, Never>?

    /// Catches `signals` at once (their default action would end the process) and queues them;
    /// none in tests, which post their signals.
    public init(signals numbers: [Int32]) {
        let (stream, continuation) = AsyncStream<DaemonEvent>.makeStream()
        self.stream = stream
        self.continuation = continuation
        guard !numbers.isEmpty else {
            forwarder = nil
            return
        }
        let signals = Signals.stream(numbers)
        forwarder = Task {
            for await number in signals { continuation.yield(.signal(number)) }
        }
    }

    deinit { forwarder?.cancel() }

    public func post(_ event: DaemonEvent) { continuation.yield(event) }

    /// The reader; call once (the queue has one consumer).
    public func makeIterator() -> AsyncStream<DaemonEvent>.Iterator { stream.makeAsyncIterator() }
}
