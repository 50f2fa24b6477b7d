import HTTPTypes
import Hummingbird
import NIOCore

/// The fault answers that are bytes on the wire rather than answers of the API: verbatim (`raw`)
/// answers and bodies that trickle for ever. Both stream, so a 64 MB or endless body costs the
/// emulator nothing (the repetitions share one buffer), and both count what they handed to the
/// connection (`EmulatorCounters.streamedBytes`).
struct StreamedAnswers {
    let state: EmulatorState

    /// Largest buffer handed to the connection at once.
    static let batchSize = 64 * 1024

    func raw(_ answer: RawAnswer) -> Response {
        var headers: HTTPFields = [:]
        for (name, value) in answer.headers {
            guard let field = HTTPField.Name(name) else { continue }
            headers[field] = value
        }
        let state = self.state
        // Whole repetitions of the chunk per write, up to about `batchSize` bytes.
        let perBatch = answer.chunk.isEmpty ? 0 : max(1, Self.batchSize / answer.chunk.count)
        var batch = ByteBuffer()
        for _ in 0..<min(perBatch, max(0, answer.repetitions)) { batch.writeBytes(answer.chunk) }
        let repeated = batch
        let body = ResponseBody(contentLength: answer.declareLength ? answer.bodySize : nil) { writer in
            func send(_ buffer: ByteBuffer) async throws {
                guard buffer.readableBytes > 0 else { return }
                if state.isStopping { throw DeliveryFaultMiddleware.StalledForever() }
                try await writer.write(buffer)
                state.withLock { $0.counters.streamedBytes += buffer.readableBytes }
            }
            try await send(ByteBuffer(bytes: answer.prefix))
            // An empty chunk repeated is nothing: counting its repetitions down in batches of none
            // never ended.
            var left = answer.chunk.isEmpty ? 0 : max(0, answer.repetitions)
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
    func trickle(interval: Duration, byte: UInt8) -> Response {
        let state = self.state
        let body = ResponseBody { writer in
            while !state.isStopping && !Task.isCancelled {
                try await writer.write(ByteBuffer(bytes: [byte]))
                state.withLock { $0.counters.streamedBytes += 1 }
                try await Task.sleep(for: interval)
            }
            throw DeliveryFaultMiddleware.StalledForever()
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }
}
