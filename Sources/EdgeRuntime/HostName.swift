#if canImport(Glibc)
    import Glibc
#endif

public enum HostName {
    /// The default MQTT client id's suffix: one per gateway, stable across restarts.
    public static var current: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "gateway" }
        let name = String(cString: buffer)
        return name.isEmpty ? "gateway" : name
    }
}
