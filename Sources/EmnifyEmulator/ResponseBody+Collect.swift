import Hummingbird
import NIOCore

extension ResponseBody {
    /// The whole body in one buffer, for middlewares that reshape an answer of the emulated API
    /// (gzip, truncation). Those answers are in memory already, so this only copies.
    func collected() async throws -> ByteBuffer {
        let sink = BufferSink()
        try await write(CollectingWriter(sink: sink))
        return sink.buffer
    }
}

private final class BufferSink {
    var buffer = ByteBuffer()
}

private struct CollectingWriter: ResponseBodyWriter {
    let sink: BufferSink

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        sink.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
