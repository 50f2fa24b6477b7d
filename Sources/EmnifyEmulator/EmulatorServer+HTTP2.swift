import EdgeCommon
import FoundationEssentials
import HummingbirdCore
import HummingbirdHTTP2
import NIOCore
import NIOSSL

extension EmulatorServer {
    /// HTTP/2 over TLS, with ALPN offering `h2` and `http/1.1` (a client without HTTP/2 gets
    /// HTTP/1.1 on the same port). `idleTimeout` closes an HTTP/2 connection without open streams
    /// (GOAWAY, as nghttpx and CloudFront do) and an HTTP/1.1 one as `http1` does.
    static func http2Server(tls: TLSConfiguration, idleTimeout: Duration?) throws -> HTTPServerBuilder {
        let perConnection = HTTP1Channel.Configuration(idleTimeout: idleTimeout.map(Self.timeAmount))
        return try .http2Upgrade(
            tlsConfiguration: tls,
            configuration: .init(idleTimeout: idleTimeout, streamConfiguration: perConnection))
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.wholeNanoseconds)
    }
}
