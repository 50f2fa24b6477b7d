import CEdgeSpawn  // pthread_attr_t comes through its <sys/types.h> under MemberImportVisibility

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a child's pipe on a thread of its own with plain blocking reads until end of file.
///
/// Why not `FileHandle.readabilityHandler`: each handler is a libdispatch read source, and
/// tearing many of them down concurrently corrupts libdispatch's epoll bookkeeping on Linux
/// (swift-corelibs-libdispatch #949): the test suite once died with SIGSEGV in
/// `_dispatch_event_loop_drain` that way. A blocking read registers nothing with dispatch.
///
/// Why not `BlockingExecutor`: that is for calls that end. A pipe reader blocks for as long as its
/// child runs (a broker for a whole test, the demo's agent for minutes), so each would hold one of the
/// executor's capped threads the whole time and could leave none for libcurl or libmosquitto.
public enum PipeReader {
    /// Hands every chunk read from `fd` to `onData`, then calls `onEnd` once at end of file or
    /// on a read error. `owner` is kept alive until then (it owns `fd`).
    public static func start(
        _ fd: Int32, owner: any AnyObject & Sendable, onData: @escaping @Sendable ([UInt8]) -> Void,
        onEnd: @escaping @Sendable () -> Void
    ) {
        DedicatedThread.start {
            withExtendedLifetime(owner) {
                var buffer = [UInt8](repeating: 0, count: 16_384)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count > 0 {
                        onData(Array(buffer[0..<count]))
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                onEnd()
            }
        }
    }
}

/// A detached pthread running one closure (Foundation's Thread is not available without Foundation).
enum DedicatedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread: pthread_t = 0
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 256 * 1024)
        let created = pthread_create(
            &thread, &attributes,
            { context in
                let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
                body.run()
                return nil
            }, context)
        pthread_attr_destroy(&attributes)
        if created != 0 {
            // No thread to be had (resource limit): run on the caller's, which then blocks.
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
        }
    }
}
