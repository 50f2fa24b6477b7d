import Glibc

/// Runs `body` with the filesystem permissions of `nobody`, so that permission-denied paths are
/// tested for real even when the tests run as root (as CI does). `setfsuid` is per thread and
/// synchronous code stays on its thread; glibc does not export it to Swift, hence `dlsym`.
func asUnprivilegedFilesystemUser<T>(_ body: () throws -> T) rethrows -> T {
    guard geteuid() == 0 else { return try body() }
    typealias SetFSUID = @convention(c) (UInt32) -> Int32
    let function = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "setfsuid")!, to: SetFSUID.self)
    let previous = function(65534)
    defer { _ = function(UInt32(previous)) }
    return try body()
}
