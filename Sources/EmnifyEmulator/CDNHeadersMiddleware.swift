import HTTPTypes
import Hummingbird

/// The response header block of an API behind CloudFront, API Gateway and an Express origin
/// (with helmet's defaults and CORS): about 1.4 KB on every answer, `304`s and errors included.
/// Five ids change with every response (`x-amz-cf-id`, `x-amzn-requestid`, `x-amz-apigw-id`,
/// `x-amzn-trace-id`, `x-request-id`), as they do behind a real CDN, so that HTTP/2's header
/// compression cannot index them away; the rest is the same on every answer of one edge server.
/// The benchmark turns it on (`serve --cdn-headers`) to measure what such headers cost a poll.
struct CDNHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The CloudFront edge server's name in `via` (one per emulator: one edge, one connection).
    let edgeHost: String

    init() {
        var random = SystemRandomNumberGenerator()
        edgeHost = Self.hex(count: 32, using: &random) + ".cloudfront.net"
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        for (name, value) in fields() where response.headers[name] == nil {
            response.headers[name] = value
        }
        return response
    }

    /// One response's block, in the order CloudFront passes them on (origin's first).
    func fields() -> [(HTTPField.Name, String)] {
        var random = SystemRandomNumberGenerator()
        let epoch = String(UInt32(EmulatorState.nowSeconds), radix: 16)
        return Self.constant(
            [
                ("x-powered-by", "Express"),
                ("x-request-id", Self.uuid(using: &random)),
                ("x-amzn-requestid", Self.uuid(using: &random)),
                ("x-amz-apigw-id", Self.base64(count: 15, using: &random) + "="),
                ("x-amzn-trace-id", "Root=1-\(epoch)-\(Self.hex(count: 24, using: &random));Sampled=0"),
                ("access-control-allow-origin", "*"),
                (
                    "access-control-expose-headers",
                    "Link, ETag, X-Count-Per-Page, X-Current-Page, X-Total-Count, X-Total-Pages, X-Sort, X-Request-Id"
                ),
                ("cache-control", "private, no-cache"),
                (
                    "content-security-policy",
                    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';"
                        + "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';"
                        + "script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"
                ),
                ("cross-origin-opener-policy", "same-origin"),
                ("cross-origin-resource-policy", "same-origin"),
                ("origin-agent-cluster", "?1"),
                ("referrer-policy", "no-referrer"),
                ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
                ("x-content-type-options", "nosniff"),
                ("x-dns-prefetch-control", "off"),
                ("x-download-options", "noopen"),
                ("x-frame-options", "SAMEORIGIN"),
                ("x-permitted-cross-domain-policies", "none"),
                ("x-xss-protection", "0"),
                (
                    "permissions-policy",
                    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                        + "payment=(), usb=()"
                ),
                ("x-cache", "Miss from cloudfront"),
                ("via", "1.1 \(edgeHost) (CloudFront)"),
                ("x-amz-cf-pop", "FRA56-P8"),
                ("alt-svc", "h3=\":443\"; ma=86400"),
                ("x-amz-cf-id", Self.base64(count: 54, using: &random) + "=="),
            ])
    }

    private static func constant(_ pairs: [(String, String)]) -> [(HTTPField.Name, String)] {
        pairs.map { (HTTPField.Name($0.0)!, $0.1) }
    }

    private static func uuid(using random: inout some RandomNumberGenerator) -> String {
        let digits = hex(count: 32, using: &random)
        var result = ""
        for (offset, character) in digits.enumerated() {
            if [8, 12, 16, 20].contains(offset) { result.append("-") }
            // Version 4, variant 10xx, like the ids these services issue.
            result.append(offset == 12 ? "4" : offset == 16 ? "a" : character)
        }
        return result
    }

    private static func hex(count: Int, using random: inout some RandomNumberGenerator) -> String {
        String((0..<count).map { _ in "0123456789abcdef".randomElement(using: &random)! })
    }

    /// CloudFront's ids are URL-safe base64.
    private static func base64(count: Int, using random: inout some RandomNumberGenerator) -> String {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return String((0..<count).map { _ in alphabet.randomElement(using: &random)! })
    }
}
