#if canImport(Glibc)
    import Glibc
#endif

/// Runs blocking calls (libcurl's transfers, libmosquitto's connect and join, child processes,
/// serial ports, /proc scans) on threads of its own, never on Swift's cooperative pool: that pool
/// is as wide as the machine has cores, so on a 2-core gateway two blocked calls stall every task.
///
/// An idle thread takes the next job: the one that became idle last, so that under light load the
/// same thread keeps taking the work and the others reach `idleTimeout` and exit (an idle agent keeps
/// none). When none is idle a new thread starts, so that a call that hangs (a DNS look-up inside
/// `mosquitto_connect`) never holds up the others; beyond `maximumThreads` jobs wait in order. Work that must not overlap and must keep its order goes through a
/// `SerialLane` on top of this.
///
/// A body must not wait for a job submitted after it: at the cap that job would never start.
// @unchecked Sendable: every stored `var` is read or written only while `mutex` is held.
public final class BlockingExecutor: JobRunner, @unchecked Sendable {
    /// The one executor of the process. 32 threads: far more than the agent or `diagnose` ever run at
    /// once (about four), and few enough that a storm of hung look-ups cannot exhaust the process.
    public static let shared = BlockingExecutor(name: "edge-blocking", maximumThreads: 32, idleTimeout: .seconds(20))

    /// Every thread of this executor carries it (`/proc/self/task/*/comm`, at most 15 bytes).
    public let name: String
    public let maximumThreads: Int
    public let idleTimeout: Duration

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var jobs = JobQueue()
    /// Threads alive; of them, `starting` have not yet looked for a job, `waking` were woken for one
    /// and have not yet looked, and those in `idleWaiters` wait (the last one idle on top).
    private var threads = 0
    private var starting = 0
    private var waking = 0
    private var idleWaiters: [Waiter] = []

    public init(name: String, maximumThreads: Int, idleTimeout: Duration) {
        precondition(maximumThreads > 0, "a BlockingExecutor needs at least one thread")
        self.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        self.maximumThreads = maximumThreads
        self.idleTimeout = idleTimeout
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        // Only reached when no thread is left: each one holds the executor until it exits.
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Starts `job` on a thread of this executor and returns at once.
    public func execute(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        jobs.append(job)
        var startsThread = false
        if let waiter = idleWaiters.popLast() {
            waiter.woken = true
            waking += 1
            pthread_cond_signal(waiter.condition)
        } else if jobs.count > waking + starting && threads < maximumThreads {
            // More jobs than threads about to look for one: all others are busy.
            startsThread = true
            threads += 1
            starting += 1
        }
        pthread_mutex_unlock(mutex)
        if startsThread && !startThread() {
            // No thread to be had (a resource limit): the queue waits for a running thread, and with
            // none left the job runs on the caller's thread, which blocks, rather than never.
            pthread_mutex_lock(mutex)
            threads -= 1
            starting -= 1
            while threads == 0, let orphan = jobs.removeFirst() {
                pthread_mutex_unlock(mutex)
                orphan()
                pthread_mutex_lock(mutex)
            }
            pthread_mutex_unlock(mutex)
        }
    }

    /// The threads of this executor alive now (for tests and diagnostics).
    public var threadCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return threads
    }

    private func startThread() -> Bool {
        let context = Unmanaged.passRetained(self).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        // The default stack size (8 MiB, reserved, not resident): libcurl, OpenSSL and getaddrinfo run
        // here, and the Dispatch threads and plain pthreads that ran them before had it too.
        var thread = pthread_t()
        let created = pthread_create(
            &thread, &attributes,
            { context in
                Unmanaged<BlockingExecutor>.fromOpaque(context!).takeRetainedValue().work()
                return nil
            }, context)
        if created != 0 { Unmanaged<BlockingExecutor>.fromOpaque(context).release() }
        return created == 0
    }

    /// A thread's life: jobs until none came for `idleTimeout`.
    private func work() {
        Self.nameThisThread(name)
        Self.blockAsynchronousSignals()
        let idleNanoseconds = Self.nanoseconds(idleTimeout)
        let waiter = Waiter()
        pthread_mutex_lock(mutex)
        starting -= 1
        while true {
            if let job = jobs.removeFirst() {
                pthread_mutex_unlock(mutex)
                job()
                pthread_mutex_lock(mutex)
                continue
            }
            let until = Deadline.now() + idleNanoseconds
            waiter.woken = false
            idleWaiters.append(waiter)
            while !waiter.woken && Deadline.now() < until {
                var time = timespec(tv_sec: Int(until / 1_000_000_000), tv_nsec: Int(until % 1_000_000_000))
                _ = pthread_cond_timedwait(waiter.condition, mutex, &time)
            }
            if waiter.woken {
                waking -= 1
                continue
            }
            idleWaiters.removeAll { $0 === waiter }
            if jobs.count == 0 { break }
        }
        threads -= 1
        pthread_mutex_unlock(mutex)
    }

    /// What `pthread_setname_np` does (Glibc's module does not export it without _GNU_SOURCE): the
    /// name shows in top, ps -L and /proc/PID/task/*/comm. Best effort: a thread without it works the same.
    private static func nameThisThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = name.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    /// As libdispatch does for its worker threads: the signals a handler of the process should see
    /// (SIGTERM, SIGHUP, …) go to another thread instead of interrupting a blocking call here; those
    /// the kernel sends to the thread that caused them stay deliverable.
    private static func blockAsynchronousSignals() {
        var set = sigset_t()
        sigfillset(&set)
        for synchronous in [SIGILL, SIGTRAP, SIGFPE, SIGBUS, SIGSEGV, SIGSYS, SIGPIPE] {
            sigdelset(&set, synchronous)
        }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// An idle thread's own condition variable, so that `execute` wakes exactly the thread it chose.
/// Its fields are used only while the executor's mutex is held.
private final class Waiter {
    let condition: UnsafeMutablePointer<pthread_cond_t>
    var woken = false

    init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)  // an NTP step must not stretch the idle time
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deinitialize(count: 1)
        condition.deallocate()
    }
}

/// A first-in first-out queue of jobs that does not move its elements on every removal.
struct JobQueue {
    private var items: [(@Sendable () -> Void)?] = []
    private var head = 0

    var count: Int { items.count - head }

    mutating func append(_ job: @escaping @Sendable () -> Void) { items.append(job) }

    mutating func removeFirst() -> (@Sendable () -> Void)? {
        guard head < items.count else { return nil }
        let job = items[head]
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return job
    }
}

/// Where blocking work runs: a `BlockingExecutor`, or a `SerialLane` of one.
public protocol JobRunner: Sendable {
    /// Starts `job` and returns at once.
    func execute(_ job: @escaping @Sendable () -> Void)
}

extension JobRunner {
    /// `body` as `execute` runs it; the caller suspends (no thread is blocked) until it returns or
    /// throws. A body that does not throw needs no `try` (`Failure` is `Never`). Cancelling the
    /// caller does not interrupt `body`: blocking C calls have their own timeouts.
    public func run<T: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            execute { continuation.resume(returning: Result(catching: body)) }
        }
        return try result.get()
    }
}
