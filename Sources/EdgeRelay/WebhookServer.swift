import EdgeCommon
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// The relay's HTTP(S) listener: the Data Streamer's webhook (POST, PUT or PATCH on
/// `webhook_path`, as the stream is configured) and `GET /healthz` for the load balancer
/// (200 while connected to a cluster node, 503 otherwise: the balancer then sends the
/// streamer's requests to the other relay).
public struct WebhookServer: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var path: String
        public var maxBodySize: Int
        /// PEM files for HTTPS; nil for plain HTTP (behind a TLS-terminating load balancer).
        public var tls: (certificate: String, key: String)?

        public init(host: String, port: Int, path: String, maxBodySize: Int, tls: (certificate: String, key: String)?) {
            self.host = host
            self.port = port
            self.path = path
            self.maxBodySize = maxBodySize
            self.tls = tls
        }
    }

    let settings: Settings
    let intake: WebhookIntake
    let cluster: any ClusterPublishing
    let logger: Logger

    public init(settings: Settings, intake: WebhookIntake, cluster: any ClusterPublishing, logger: Logger) {
        self.settings = settings
        self.intake = intake
        self.cluster = cluster
        self.logger = logger
    }

    /// Serves until the task is cancelled (or the service group shuts it down); `onListening`
    /// gets the bound port (the one picked for port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let router = Router(context: BasicRequestContext.self)
        let intake = self.intake
        let limit = settings.maxBodySize
        let receive: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                return Self.answer(.init(status: 413, body: WebhookIntake.error("the body is over \(limit) bytes")))
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limit)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                return Self.answer(.init(status: 413, body: WebhookIntake.error("the body is over \(limit) bytes")))
            }
            let answer = await intake.receive(
                authorization: request.headers[.authorization], body: Array(buffer: body))
            return Self.answer(answer)
        }
        router.post(RouterPath(settings.path), use: receive)
        router.put(RouterPath(settings.path), use: receive)
        router.patch(RouterPath(settings.path), use: receive)
        let cluster = self.cluster
        router.get("/healthz") { _, _ -> Response in
            cluster.isConnected
                ? Self.answer(.init(status: 200, body: "{\"cluster\":\"connected\"}"))
                : Self.answer(.init(status: 503, body: "{\"cluster\":\"disconnected\"}", retryAfterSeconds: 5))
        }

        let server: HTTPServerBuilder
        if let tls = settings.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            configuration.applicationProtocols = ["http/1.1"]
            server = try .tls(.http1(), tlsConfiguration: configuration)
        } else {
            server = .http1()
        }
        var quiet = logger
        // Hummingbird logs every request at info; the relay's own lines say what matters.
        quiet.logLevel = max(logger.logLevel, .notice)
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: quiet)
        try await app.run()
    }

    static func answer(_ answer: WebhookIntake.Answer) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let seconds = answer.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        if answer.status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        return Response(
            status: .init(code: answer.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
