import CMosquitto

/// `mosquitto_lib_init` exactly once per process (a lazily initialised, thread-safe static).
enum MosquittoLibrary {
    private static let initResult: Int32 = mosquitto_lib_init()

    static func ensureInitialised() {
        _ = initResult
    }
}
