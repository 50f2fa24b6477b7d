/// Jobs that run one at a time and in the order they were submitted, on a `BlockingExecutor`: what a
/// serial Dispatch queue gave, for a resource that two threads must never use at once and whose
/// callers expect their calls in order (libcurl's easy handle in `CurlTransport`). It holds no thread
/// while it has no work, and never more than one.
///
/// Why safe: a drain is started only by the submission that found `draining` false, and `draining` is
/// cleared, under the same lock, only when the drain found the queue empty; so at most one drain runs
/// at any time. Successive jobs may run on different threads of the executor, one after another; the
/// lock taken between them orders their memory accesses (libcurl allows an easy handle to move
/// between threads as long as it is never used by two at once).
public final class SerialLane: JobRunner {
    public let executor: BlockingExecutor
    private let state = Locked(State())

    private struct State {
        var jobs = JobQueue()
        var draining = false
    }

    public init(on executor: BlockingExecutor = .shared) {
        self.executor = executor
    }

    /// Queues `job` behind the lane's earlier jobs and returns at once.
    public func execute(_ job: @escaping @Sendable () -> Void) {
        let startsDrain = state.withLock { state in
            state.jobs.append(job)
            defer { state.draining = true }
            return !state.draining
        }
        if startsDrain { executor.execute { [self] in drain() } }
    }

    private func drain() {
        while let job = state.withLock({ state in
            let next = state.jobs.removeFirst()
            if next == nil { state.draining = false }
            return next
        }) {
            job()
        }
    }
}
