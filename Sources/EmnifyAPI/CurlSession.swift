import CCurl
import EdgeCommon

/// One libcurl easy handle and its share handle, reused for every request so that the
/// TCP connection, TLS session and DNS answer survive between polls (on a cellular link the
/// handshake costs more bytes than an idle poll's payload).
///
/// Not thread-safe: `CurlTransport` confines each session to one `SerialLane` (never two threads at
/// once), which is why the `@unchecked Sendable` (needed to hand it to that lane) is safe.
final class CurlSession: @unchecked Sendable {
    struct Settings: Sendable {
        var userAgent: String
        var caFile: String?
        var connectTimeout: Duration
        var totalTimeout: Duration
        var maxResponseSize: Int
    }

    private let easy: UnsafeMutableRawPointer
    private let share: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private let settings: Settings

    private static let globalInit: Bool = {
        // curl_global_init is not thread-safe; a static let runs it exactly once.
        ccurl_global_init_default() == CURLE_OK
    }()

    init(settings: Settings) throws(TransportError) {
        guard CurlSession.globalInit, let easy = curl_easy_init(), let share = curl_share_init() else {
            throw .other(code: -1, "libcurl could not be initialised")
        }
        self.easy = easy
        self.share = share
        self.settings = settings
        // One thread uses this share handle, so it needs no lock callbacks.
        _ = ccurl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_SSL_SESSION.rawValue))
        _ = ccurl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_DNS.rawValue))
        try configure()
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_share_cleanup(share)
        errorBuffer.deallocate()
    }

    private func configure() throws(TransportError) {
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try check(ccurl_easy_setopt_share(easy, share))
        // Signals must not be used for timeouts in a multi-threaded process.
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_USERAGENT, settings.userAgent)
        // Empty string: offer every encoding this libcurl decodes (gzip at least) and decode it.
        try set(CURLOPT_ACCEPT_ENCODING, "")
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout.wholeMilliseconds))
        try set(CURLOPT_TIMEOUT_MS, Int(settings.totalTimeout.wholeMilliseconds))
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        // HTTP/2 when the server offers it over TLS: header compression makes idle polls cheap.
        try set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        // Verification is always on; there is deliberately no setting to turn it off.
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = settings.caFile {
            try set(CURLOPT_CAINFO, caFile)
        }
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try check(ccurl_easy_setopt_off_t(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(settings.maxResponseSize)))
        try check(ccurl_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, curlWriteBody))
        try check(ccurl_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        // Proxies come from http_proxy / https_proxy / no_proxy, which libcurl reads itself
        // whenever CURLOPT_PROXY is not set.
    }

    func perform(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        let sink = ResponseSink(limit: settings.maxResponseSize)
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }
        errorBuffer[0] = 0

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        for header in request.headers {
            // A value echoed from a response (ETag) must never smuggle a line break into the request.
            guard !header.value.contains(where: \.isNewline), !header.name.contains(where: \.isNewline) else {
                curl_slist_free_all(headerList)
                throw .other(code: -1, "refusing a request header with a line break (\(header.name))")
            }
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if request.body != nil {
            headerList = curl_slist_append(headerList, "Content-Type: application/json")
        }
        // Without this libcurl adds "Expect: 100-continue" to larger bodies: one round trip more.
        headerList = curl_slist_append(headerList, "Expect:")
        defer { curl_slist_free_all(headerList) }

        try set(CURLOPT_URL, request.url)
        try check(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))
        try set(CURLOPT_WRITEDATA, pointer: sinkPointer.toOpaque())
        try set(CURLOPT_HEADERDATA, pointer: sinkPointer.toOpaque())

        let code: CURLcode
        switch request.method {
        case .get:
            try set(CURLOPT_HTTPGET, 1)
            try check(ccurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, nil))
            code = curl_easy_perform(easy)
        case .post, .patch, .put:
            let body = request.body ?? []
            try check(
                ccurl_easy_setopt_string(
                    easy, CURLOPT_CUSTOMREQUEST, request.method == .post ? nil : request.method.rawValue))
            // libcurl does not copy POSTFIELDS: the buffer must outlive curl_easy_perform.
            code = body.withUnsafeBytes { buffer -> CURLcode in
                _ = ccurl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
                _ = ccurl_easy_setopt_pointer(
                    easy, CURLOPT_POSTFIELDS,
                    UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafeRawPointer(errorBuffer)))
                return curl_easy_perform(easy)
            }
            _ = ccurl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, nil)
        }

        if code != CURLE_OK {
            throw transportError(code, sink: sink, url: request.url)
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body, metrics: metrics())
    }

    private func metrics() -> TransferMetrics {
        var result = TransferMetrics()
        var requestSize = 0, headerSize = 0, connects = 0, version = 0
        var uploaded: curl_off_t = 0, downloaded: curl_off_t = 0
        var lookup: curl_off_t = 0, connect: curl_off_t = 0, tls: curl_off_t = 0, total: curl_off_t = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &requestSize)
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_HEADER_SIZE, &headerSize)
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_SIZE_DOWNLOAD_T, &downloaded)
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_NAMELOOKUP_TIME_T, &lookup)
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_CONNECT_TIME_T, &connect)
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_APPCONNECT_TIME_T, &tls)
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_TOTAL_TIME_T, &total)
        var ip: UnsafePointer<CChar>? = nil
        _ = ccurl_easy_getinfo_string(easy, CURLINFO_PRIMARY_IP, &ip)
        result.bytesSent = requestSize + Int(uploaded)
        result.bytesReceived = headerSize + Int(downloaded)
        result.newConnection = connects > 0
        result.nameLookup = .microseconds(lookup)
        result.connect = .microseconds(connect)
        result.tlsHandshake = .microseconds(tls)
        result.total = .microseconds(total)
        result.httpVersion = Self.httpVersionName(version)
        result.remoteAddress = ip.map { String(cString: $0) } ?? ""
        return result
    }

    private static func httpVersionName(_ version: Int) -> String {
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): return "HTTP/1.0"
        case Int(CURL_HTTP_VERSION_1_1): return "HTTP/1.1"
        case Int(CURL_HTTP_VERSION_2_0): return "HTTP/2"
        case Int(CURL_HTTP_VERSION_3): return "HTTP/3"
        default: return ""
        }
    }

    private func transportError(_ code: CURLcode, sink: ResponseSink, url: String) -> TransportError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        if sink.exceededLimit { return .responseTooLarge(limit: settings.maxResponseSize) }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST: return .couldNotResolveHost(detail)
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY: return .proxyFailed(detail)
        case CURLE_COULDNT_CONNECT: return .couldNotConnect(detail)
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(detail)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return .tlsVerificationFailed(detail)
        case CURLE_SSL_CONNECT_ERROR: return .tlsHandshakeFailed(detail)
        case CURLE_PARTIAL_FILE: return .truncatedBody(detail)
        case CURLE_FILESIZE_EXCEEDED: return .responseTooLarge(limit: settings.maxResponseSize)
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM,
            CURLE_BAD_CONTENT_ENCODING, CURLE_WRITE_ERROR:
            return .connectionBroken(detail)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidURL(url)
        default: return .other(code: Int(code.rawValue), detail)
        }
    }

    private func set(_ option: CURLoption, _ value: Int) throws(TransportError) {
        try check(ccurl_easy_setopt_long(easy, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(TransportError) {
        // libcurl copies string options (since 7.17), so a temporary C string is fine.
        try check(ccurl_easy_setopt_string(easy, option, value))
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(TransportError) {
        try check(ccurl_easy_setopt_pointer(easy, option, pointer))
    }

    private func check(_ code: CURLcode) throws(TransportError) {
        guard code == CURLE_OK else {
            throw .other(code: Int(code.rawValue), String(cString: curl_easy_strerror(code)))
        }
    }
}

/// Collects one response's headers and body inside libcurl's callbacks.
final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var exceededLimit = false

    init(limit: Int) {
        self.limit = limit
    }

    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if body.count + bytes.count > limit {
            exceededLimit = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        // A new status line (after 100 Continue, or a proxy's CONNECT answer) starts a new header set.
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        var value = line[line.index(after: colon)...]
        // Characters, not bytes: "\r\n" is one Character in Swift, so test isNewline.
        while let first = value.first, first == " " || first == "\t" { value = value.dropFirst() }
        while let last = value.last, last.isNewline || last == " " || last == "\t" { value = value.dropLast() }
        headers[name] = Self.fieldValue(value)
    }

    /// RFC 9110 §5.5: a CR, LF or NUL inside a field value is replaced with a space (so are the
    /// other line breaks Swift knows, VT, FF, NEL, LS, PS). A value the client sends back, such as
    /// an ETag as `If-None-Match`, then never trips the request's line-break check.
    static func fieldValue(_ value: Substring) -> String {
        guard value.contains(where: { $0.isNewline || $0.unicodeScalars.contains("\0") }) else { return String(value) }
        var result = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            result.append(scalar == "\0" || Character(scalar).isNewline ? " " : scalar)
        }
        return String(result)
    }
}

// Non-capturing trampolines: the sink travels through libcurl's userdata pointer.
private let curlWriteBody: ccurl_write_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    return sink.appendBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let curlWriteHeader: ccurl_write_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    if let data, length > 0 {
        sink.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    }
    return length
}
