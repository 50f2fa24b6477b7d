import EdgeCommon
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A small real HTTP receiver for the Data Streamer stand-in: records every request on `/hook`,
/// holds the first `stalling` ones for `stall` (longer than the stream's timeout) and answers
/// `503` to the first `failing` ones, then `200`. Stalled requests are recorded with status 0.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        let method: String
        let authorization: String?
        let contentType: String?
        let body: Data
        let status: Int

        /// The event ids of the body, in body order (an object or an array of them).
        func ids() throws -> [Int64] {
            let json = try JSONSerialization.jsonObject(with: body)
            let objects = (json as? [[String: Any]]) ?? [(json as? [String: Any]) ?? [:]]
            return objects.compactMap { ($0["id"] as? NSNumber)?.int64Value }
        }

        var isArray: Bool { body.first == UInt8(ascii: "[") }
    }

    let port: Int
    var url: String { "http://127.0.0.1:\(port)/hook" }
    private let deliveries: Locked<[Delivery]>
    private let task: Task<Void, Never>

    private init(port: Int, deliveries: Locked<[Delivery]>, task: Task<Void, Never>) {
        self.port = port
        self.deliveries = deliveries
        self.task = task
    }

    static func start(
        failingFirst: Int = 0, stallingFirst: Int = 0, stall: Duration = .seconds(3), port: Int = 0
    ) async throws -> WebhookReceiver {
        let deliveries = Locked<[Delivery]>([])
        let failing = Locked(failingFirst)
        let stalling = Locked(stallingFirst)
        let router = Router()
        let record: @Sendable (Request, String) async throws -> Response = { request, method in
            let body = try await request.body.collect(upTo: 64 << 20)
            func take(_ counter: Locked<Int>) -> Bool {
                counter.withLock { remaining in
                    defer { remaining = max(0, remaining - 1) }
                    return remaining > 0
                }
            }
            let stalled = take(stalling)
            let status = stalled ? 0 : take(failing) ? 503 : 200
            deliveries.withLock {
                $0.append(
                    Delivery(
                        method: method, authorization: request.headers[.authorization],
                        contentType: request.headers[.contentType], body: Data(body.readableBytesView), status: status))
            }
            if stalled { try? await Task.sleep(for: stall) }
            return Response(status: .init(code: stalled ? 200 : status))
        }
        router.post("hook") { request, _ in try await record(request, "POST") }
        router.put("hook") { request, _ in try await record(request, "PUT") }
        router.patch("hook") { request, _ in try await record(request, "PATCH") }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        let task = Task<Void, Never> {
            try? await app.runService()
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw ReceiverError.couldNotListen
        }
        return WebhookReceiver(port: port, deliveries: deliveries, task: task)
    }

    enum ReceiverError: Error { case couldNotListen }

    var received: [Delivery] { deliveries.withLock { $0 } }

    /// Ids of the events in acknowledged (200) requests, with repetitions.
    func acknowledgedIDs() throws -> [Int64] {
        try received.filter { $0.status == 200 }.flatMap { try $0.ids() }
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}
