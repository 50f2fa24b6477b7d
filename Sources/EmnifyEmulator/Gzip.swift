import CZlib

/// gzip (RFC 1952) at zlib's default level, as emnify's CDN sends its JSON: byte counts over the
/// emulator are those a gateway would see. (It once wrote stored blocks, which do not shrink the
/// body, and made every event look five times its size on the air.)
enum Gzip {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: a 32 KiB window with a gzip header and trailer; 8: zlib's default memory level.
        guard
            deflateInit2_(
                &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { fatalError("zlib: deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        var input = input
        let written = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                // The bound holds the whole stream, so one call with Z_FINISH ends it.
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { fatalError("zlib: deflate did not finish") }
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(written))
    }
}
