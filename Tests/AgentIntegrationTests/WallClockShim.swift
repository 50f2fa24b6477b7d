import Foundation
import TestSupport

/// Moves a child's wall clock, and only it, by the seconds written in a file (read again every
/// 200 ms, so rewriting the file sets the clock of the running process, as NTP would).
///
/// Why not libfaketime (Debian's `faketime`, tried first): with any offset, libfaketime 0.9.10
/// also shifts the absolute `timerfd` timers libdispatch arms on the monotonic clock, so Swift's
/// `Task.sleep` never returns (a five-line Swift program hangs under `FAKETIME=+5h`, with or
/// without `FAKETIME_DONT_FAKE_MONOTONIC`), and the agent stopped after its first poll. Preloaded
/// without `FAKETIME_SHARED` it also `setenv`s in its constructor, and the agent lost its arguments.
/// This shim fakes `CLOCK_REALTIME` in `clock_gettime`, `gettimeofday` and `time`, the calls the
/// agent, libcurl and OpenSSL read the date with; the monotonic clocks stay real, as on a gateway.
enum WallClockShim {
    static let source = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/time.h>
        #include <time.h>

        static int (*real_clock_gettime)(clockid_t, struct timespec *);
        static long long offset_seconds;
        static long long read_at_ms = -1000000;

        static long long offset(void) {
            struct timespec now;
            if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
            real_clock_gettime(CLOCK_MONOTONIC, &now);
            long long ms = now.tv_sec * 1000LL + now.tv_nsec / 1000000;
            if (ms - read_at_ms >= 200) {
                read_at_ms = ms;
                const char *path = getenv("EDGE_TEST_CLOCK_OFFSET_FILE");
                FILE *file = path ? fopen(path, "r") : NULL;
                if (file) {
                    long long value;
                    if (fscanf(file, "%lld", &value) == 1) offset_seconds = value;
                    fclose(file);
                }
            }
            return offset_seconds;
        }

        int clock_gettime(clockid_t id, struct timespec *ts) {
            if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
            int result = real_clock_gettime(id, ts);
            if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += offset();
            return result;
        }

        int gettimeofday(struct timeval *tv, void *tz) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            if (tv) {
                tv->tv_sec = ts.tv_sec;
                tv->tv_usec = ts.tv_nsec / 1000;
            }
            return 0;
        }

        time_t time(time_t *out) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            if (out) *out = ts.tv_sec;
            return ts.tv_sec;
        }
        """#

    /// Compiles the shim into `directory` and returns the environment that preloads it, reading
    /// the offset from `offsetFile`.
    static func environment(in directory: TemporaryDirectory, offsetFile: String) async throws -> [String: String] {
        let sourcePath = try directory.write(source, to: "wall-clock-shim.c")
        let library = directory.file("wall-clock-shim.so")
        let result = try await ChildProcess.run(
            "/usr/bin/cc", ["-shared", "-fPIC", "-O2", "-o", library, sourcePath, "-ldl"],
            environment: ["PATH": "/usr/bin:/bin"])
        guard result.exitCode == 0 else {
            throw TestSupportError("cannot build the clock shim: \(result.standardError)")
        }
        return ["LD_PRELOAD": library, "EDGE_TEST_CLOCK_OFFSET_FILE": offsetFile]
    }

    static func set(_ file: String, seconds: Int64) throws {
        // Written whole and renamed: the agent never reads half a number.
        try "\(seconds)\n".write(toFile: file, atomically: true, encoding: .utf8)
    }
}
