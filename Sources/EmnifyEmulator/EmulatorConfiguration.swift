import FoundationEssentials

extension EmulatorServer {
    /// How the emulator listens.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain HTTP.
        case none
        /// HTTPS with a throwaway CA (`caCertificatePEM`) that signed the server certificate.
        case selfSigned
        /// HTTPS whose server certificate comes from a *different* CA than the one handed
        /// out, so a client that trusts `caCertificatePEM` must fail verification.
        case untrusted
    }

    public struct Configuration: Sendable {
        public var tls: TLSMode
        /// Loopback address to bind.
        public var host: String
        /// 0 picks a free port (see `EmulatorServer.port`).
        public var port: Int
        public var applicationToken: String
        public var tokenLifetime: Duration
        public var seed: UInt64
        /// Events generated into the past at start.
        public var history: Int
        /// How far back the history reaches; nil: as `eventRate` (or one event per 5 minutes) implies.
        public var historySpan: Duration?
        /// New events per minute while running; nil = none (inject them instead).
        public var eventRate: Double?
        /// false: the SIM has no endpoint assigned.
        public var hasEndpoint: Bool
        /// The newest history event's time; nil = now. Fix it to make event bodies (timestamps
        /// included) identical between runs with the same seed.
        public var historyEnd: Date?
        /// Close connections idle for this long (nil: keep them open).
        public var idleTimeout: Duration?
        /// Enforce the authenticate limits: 100 calls per 5 minutes (then 429) and a 5-minute
        /// lock after 3 consecutive failed logins (then 401 even for the right token).
        public var enforceAuthenticationLimits: Bool
        /// Delay between a connectivity reset and the events it causes.
        public var resetEventDelay: Duration
        /// HTTP/2 over TLS, ALPN offering h2 and http/1.1 (needs `tls`).
        public var http2 = false
        /// Send a CDN's response header block (CloudFront and Express, about 1.4 KB, per-response ids).
        public var cdnHeaders = false
        /// SIMs of the organisation (each with an endpoint; the first as `hasEndpoint` says).
        /// The history is the first SIM's; `EmulatorControl.generate(count:sims:)` raises events for the others.
        public var sims = 1

        public init(
            tls: TLSMode = .none,
            host: String = "127.0.0.1",
            port: Int = 0,
            applicationToken: String = "emulator-application-token",
            tokenLifetime: Duration = .seconds(4 * 3600),
            seed: UInt64 = 1,
            history: Int = 300,
            historySpan: Duration? = nil,
            eventRate: Double? = nil,
            hasEndpoint: Bool = true,
            historyEnd: Date? = nil,
            idleTimeout: Duration? = nil,
            enforceAuthenticationLimits: Bool = true,
            resetEventDelay: Duration = .milliseconds(200)
        ) {
            self.tls = tls
            self.host = host
            self.port = port
            self.applicationToken = applicationToken
            self.tokenLifetime = tokenLifetime
            self.seed = seed
            self.history = history
            self.historySpan = historySpan
            self.eventRate = eventRate
            self.hasEndpoint = hasEndpoint
            self.historyEnd = historyEnd
            self.idleTimeout = idleTimeout
            self.enforceAuthenticationLimits = enforceAuthenticationLimits
            self.resetEventDelay = resetEventDelay
        }
    }
}
