#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value behind a pthread mutex, used like `Synchronization.Mutex` (`withLock { $0 … }`).
///
/// Why not `Mutex`: on Linux it is a futex that ThreadSanitizer has no interceptor for, so TSan
/// sees no ordering between two `withLock` bodies and reports every access they protect as a
/// race (a ten-line program with one `Mutex<[Int: Int]>` and two threads gets three reports).
/// TSan intercepts pthread mutexes, so with this type `.ci/sanitizers thread` reports only what
/// is real. Uncontended cost is the same order (one atomic each way).
// @unchecked Sendable: `value` is only read or written between pthread_mutex_lock and unlock.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
