import EdgeCommon

/// `<state_dir>/recent-ids`: the ids the relay saw published in the last minutes, saved every
/// poll interval. A restarted relay (SIGKILL, a crash, an upgrade) reads it back, so its next
/// reconciliation does not publish again what the stream brought before the restart. Lost or
/// damaged, it costs duplicates, never events. 16 bytes per id (id, time recorded), little endian.
enum RecentIDsFile {
    static func path(in directory: String) -> String { directory + "/recent-ids" }

    static func save(_ ids: [(id: Int64, at: Int64)], in directory: String) throws(FileError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 16)
        for entry in ids {
            withUnsafeBytes(of: entry.id.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: entry.at.littleEndian) { bytes += $0 }
        }
        try AtomicFile.write(bytes, to: path(in: directory))
    }

    static func load(from directory: String) -> [(id: Int64, at: Int64)] {
        guard let bytes = try? FileReader.read(path(in: directory), limit: 64 << 20), bytes.count % 16 == 0 else {
            return []
        }
        var result: [(id: Int64, at: Int64)] = []
        result.reserveCapacity(bytes.count / 16)
        var index = 0
        while index < bytes.count {
            result.append((integer(bytes, at: index), integer(bytes, at: index + 8)))
            index += 16
        }
        return result
    }

    private static func integer(_ bytes: [UInt8], at offset: Int) -> Int64 {
        var value: UInt64 = 0
        for shift in 0..<8 { value |= UInt64(bytes[offset + shift]) << (8 * UInt64(shift)) }
        return Int64(bitPattern: value)
    }
}
