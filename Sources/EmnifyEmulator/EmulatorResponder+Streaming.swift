import HTTPTypes
import Hummingbird
import NIOCore

/// The faults that shape the bytes on the wire themselves: verbatim (`raw`) answers and bodies
/// that trickle for ever. Both stream, so a 64 MB or endless body costs the emulator nothing
/// (the repetitions share one buffer), and both count what they handed to the connection
/// (`EmulatorCounters.streamedBytes`).
extension EmulatorResponder {
    /// Largest buffer handed to the connection at once.
    static let streamingBatch = 64 * 1024

    func rawResponse(_ answer: RawAnswer) -> Response {
        var headers: HTTPFields = [:]
        for (name, value) in answer.headers {
            guard let field = HTTPField.Name(name) else { continue }
            headers[field] = value
        }
        let size = answer.bodySize
        countHead(status: answer.status, headers: headers)
        let state = self.state
        // Whole repetitions of the chunk per write, up to about `streamingBatch` bytes.
        let perBatch = answer.chunk.isEmpty ? 0 : max(1, Self.streamingBatch / answer.chunk.count)
        var batch = ByteBuffer()
        for _ in 0..<min(perBatch, max(0, answer.repetitions)) { batch.writeBytes(answer.chunk) }
        let repeated = batch
        let body = ResponseBody(contentLength: answer.declareLength ? size : nil) { writer in
            func send(_ buffer: ByteBuffer) async throws {
                guard buffer.readableBytes > 0 else { return }
                if state.isStopping { throw StalledForever() }
                try await writer.write(buffer)
                state.withLock { inner in
                    inner.counters.streamedBytes += buffer.readableBytes
                    inner.counters.bytesOut += buffer.readableBytes
                }
            }
            try await send(ByteBuffer(bytes: answer.prefix))
            var left = max(0, answer.repetitions)
            while left > 0 {
                let now = min(left, perBatch)
                let buffer = now == perBatch ? repeated : repeated.getSlice(at: 0, length: now * answer.chunk.count)!
                try await send(buffer)
                left -= now
            }
            try await send(ByteBuffer(bytes: answer.suffix))
            try await writer.finish(nil)
        }
        return Response(status: .init(code: answer.status), headers: headers, body: body)
    }

    /// `200`, JSON headers, no length; then `byte` every `interval` until the client gives up
    /// (the write fails) or the emulator stops.
    func trickleResponse(interval: Duration, byte: UInt8) -> Response {
        let headers: HTTPFields = [.contentType: "application/json"]
        countHead(status: 200, headers: headers)
        let state = self.state
        let body = ResponseBody { writer in
            while !state.isStopping && !Task.isCancelled {
                try await writer.write(ByteBuffer(bytes: [byte]))
                state.withLock { inner in
                    inner.counters.streamedBytes += 1
                    inner.counters.bytesOut += 1
                }
                try await Task.sleep(for: interval)
            }
            throw StalledForever()
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    private func countHead(status: Int, headers: HTTPFields) {
        let headSize = Self.headSize(status: status, headers: headers) + 20
        state.withLock { inner in
            inner.counters.statusCodes[String(status), default: 0] += 1
            inner.counters.bytesOut += headSize
        }
    }
}
