#if canImport(Glibc)
    import Glibc
#endif

/// Who has a device open, from /proc (the same check Quectel's quectel-CM does: it finds
/// `/proc/656/fd/9 -> /dev/ttyUSB2` and `/proc/656/exe -> /usr/sbin/ModemManager`).
enum PortOwnership {
    /// The pid of a ModemManager process that holds `port` open, if any.
    static func modemManagerHolding(_ port: String, procRoot: String = "/proc") -> Int32? {
        let target = realPath(port) ?? port
        for pid in processIDs(procRoot) where processName(pid, procRoot: procRoot) == "ModemManager" {
            let fdDirectory = "\(procRoot)/\(pid)/fd"
            for entry in directoryEntries(fdDirectory) {
                if let link = readLink("\(fdDirectory)/\(entry)"), link == target || link == port { return pid }
            }
        }
        return nil
    }

    /// True when a ModemManager process exists.
    static func modemManagerRunning(procRoot: String = "/proc") -> Bool {
        processIDs(procRoot).contains { processName($0, procRoot: procRoot) == "ModemManager" }
    }

    static func processIDs(_ procRoot: String) -> [Int32] {
        directoryEntries(procRoot).compactMap { Int32($0) }
    }

    static func processName(_ pid: Int32, procRoot: String) -> String? {
        guard let file = fopen("\(procRoot)/\(pid)/comm", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self).trimmingBlanks()
    }

    static func directoryEntries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
