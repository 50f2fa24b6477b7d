/// gzip (RFC 1952) with *stored* deflate blocks (RFC 1951 BTYPE=00): a valid gzip stream that
/// any client inflates, without a zlib dependency. It exercises the client's decoding path; it
/// does not shrink the body, so byte counts over gzip are those of the uncompressed JSON.
enum Gzip {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        out.reserveCapacity(input.count + input.count / 65_535 * 5 + 32)
        var offset = 0
        repeat {
            let length = min(65_535, input.count - offset)
            let final: UInt8 = offset + length == input.count ? 1 : 0
            out.append(final)
            out.append(UInt8(length & 0xFF))
            out.append(UInt8(length >> 8))
            out.append(UInt8(~length & 0xFF))
            out.append(UInt8((~length >> 8) & 0xFF))
            out.append(contentsOf: input[offset..<(offset + length)])
            offset += length
        } while offset < input.count
        let crc = crc32(input)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((crc >> UInt32(shift)) & 0xFF)) }
        let size = UInt32(truncatingIfNeeded: input.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((size >> UInt32(shift)) & 0xFF)) }
        return out
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
}
