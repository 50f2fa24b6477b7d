import Glibc

/// Runs blocking C calls (DNS resolution in `mosquitto_connect_async`, joining the network thread in
/// `mosquitto_loop_stop`) on a short-lived thread of their own, off Swift's cooperative thread pool.
enum BlockingCall {
    /// `body` on a new detached thread; the caller suspends until it returns.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            detach { continuation.resume(returning: body()) }
        }
    }

    /// Starts `work` on a new detached thread (inline if no thread can be created).
    static func detach(_ work: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Work(work))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, &attributes,
            { raw in
                guard let raw else { return nil }
                Unmanaged<Work>.fromOpaque(raw).takeRetainedValue().body()
                return nil
            }, box.toOpaque())
        if rc != 0 {
            box.takeRetainedValue().body()
        }
    }

    private final class Work: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
