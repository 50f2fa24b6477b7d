import CMosquitto

/// `mosquitto_lib_init` exactly once per process (a lazily initialised, thread-safe static).
enum MosquittoLibrary {
    private static let initResult: Int32 = mosquitto_lib_init()

    static func ensureInitialised() {
        _ = initResult
    }
}

extension MQTTConnection {
    /// libmosquitto's version, e.g. `2.0.18` (for support bundles).
    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = mosquitto_lib_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}
