import EdgeCommon
import FoundationEssentials
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// A running emulator: one SIM and endpoint behind a loopback HTTP(S) server. Instances share
/// nothing, so a test process can run many in parallel.
///
/// ```swift
/// let emulator = try await EmulatorServer.start(.init(tls: .selfSigned, applicationToken: "t"))
/// defer { Task { await emulator.stop() } }
/// ```
public final class EmulatorServer: Sendable {
    public let configuration: Configuration
    /// The bound port (the one picked when `configuration.port` was 0).
    public let port: Int
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`, no trailing slash.
    public let baseURL: String
    /// PEM of the CA that a client should trust; nil for plain HTTP. With `.untrusted` this
    /// CA did *not* sign the server certificate.
    public let caCertificatePEM: String?
    public let identity: SimIdentity
    public let control: EmulatorControl

    /// The 20-digit ICCID the simulated modem reports (with Luhn check digit).
    public var iccid: String { identity.iccidWithLuhn }
    public var simID: Int64 { identity.simID }
    /// nil when configured without an endpoint.
    public var endpointID: Int64? { identity.endpointID }
    public var applicationToken: String { configuration.applicationToken }

    private let state: EmulatorState
    private let tasks: Locked<[Task<Void, Never>]>

    private init(
        configuration: Configuration, port: Int, caCertificatePEM: String?, state: EmulatorState,
        tasks: [Task<Void, Never>]
    ) {
        self.configuration = configuration
        self.port = port
        let scheme = configuration.tls == .none ? "http" : "https"
        self.baseURL = "\(scheme)://\(configuration.host):\(port)"
        self.caCertificatePEM = caCertificatePEM
        self.state = state
        self.identity = state.identity
        self.control = EmulatorControl(state: state)
        self.tasks = Locked(tasks)
    }

    /// Starts listening; returns once the port is bound.
    public static func start(_ configuration: Configuration) async throws -> EmulatorServer {
        guard configuration.history >= 0 else {
            throw EmulatorError.invalidConfiguration("history must not be negative")
        }
        guard (1...Fleet.maximumCount).contains(configuration.sims) else {
            throw EmulatorError.invalidConfiguration("sims must be 1...\(Fleet.maximumCount)")
        }
        if let rate = configuration.eventRate, !(rate > 0) {
            throw EmulatorError.invalidConfiguration("event rate must be positive")
        }
        if configuration.http2 && configuration.tls == .none {
            throw EmulatorError.invalidConfiguration("HTTP/2 needs TLS (ALPN offers it); plain HTTP is HTTP/1.1 only")
        }
        let state = EmulatorState(configuration: configuration)
        let responder = EmulatorResponder(state: state, control: EmulatorControl(state: state))

        let http1 = HTTPServerBuilder.http1(
            configuration: .init(
                idleTimeout: configuration.idleTimeout.map { TimeAmount.nanoseconds($0.wholeNanoseconds) }))
        let server: HTTPServerBuilder
        var caPEM: String?
        switch configuration.tls {
        case .none:
            server = http1
        case .selfSigned, .untrusted:
            let authority = try CertificateAuthority(trusted: configuration.tls == .selfSigned)
            caPEM = authority.caCertificatePEM
            let certificate = try NIOSSLCertificate(bytes: Array(authority.serverCertificatePEM.utf8), format: .pem)
            let key = try NIOSSLPrivateKey(bytes: Array(authority.serverPrivateKeyPEM.utf8), format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
            tls.applicationProtocols = ["http/1.1"]
            if configuration.http2 {
                server = try Self.http2Server(tls: tls, idleTimeout: configuration.idleTimeout)
            } else {
                server = try .tls(http1, tlsConfiguration: tls)
            }
        }

        var logger = Logger(label: "emnify-emulator")
        // Cancellation at stop() is logged at error level by HummingbirdCore: keep quiet.
        logger.logLevel = .critical
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let serverTask = Task<Void, Never> {
            do {
                try await app.run()
            } catch {
                logger.error("emulator stopped: \(error)")
            }
            portContinuation.finish()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            serverTask.cancel()
            throw EmulatorError.startFailed("cannot listen on \(configuration.host):\(configuration.port)")
        }
        var tasks = [serverTask]
        if let rate = configuration.eventRate {
            tasks.append(
                Task {
                    let interval = Duration.milliseconds(Int64(60_000 / rate))
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        if Task.isCancelled || state.isStopping { break }
                        state.withLock { $0.store.appendNext(at: EmulatorState.nowMillis) }
                    }
                })
        }
        return EmulatorServer(
            configuration: configuration, port: port, caCertificatePEM: caPEM, state: state, tasks: tasks)
    }

    /// Writes `caCertificatePEM` to `path` (for `CURLOPT_CAINFO` / `curl --cacert`).
    public func writeCACertificate(to path: String) throws {
        guard let caCertificatePEM else {
            throw EmulatorError.invalidConfiguration("plain HTTP emulator has no CA certificate")
        }
        try Data(caCertificatePEM.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Stops listening, releases stalled requests and waits for the server to finish.
    public func stop() async {
        let streamTasks = state.withLock { inner in
            inner.stopping = true
            defer { inner.streamTasks.removeAll() }
            return Array(inner.streamTasks.values)
        }
        let tasks =
            self.tasks.withLock { tasks in
                defer { tasks.removeAll() }
                return tasks
            } + streamTasks
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// The line `emnify-emulator serve` prints once it listens, for a parent process to read:
    /// `EMULATOR_READY url=<base URL> iccid=<20 digits> sim_id=<id> endpoint_id=<id|none> token=<token> ca=<path|none>`
    public func readyLine(caFile: String?) -> String {
        "EMULATOR_READY url=\(baseURL) iccid=\(iccid) sim_id=\(simID) endpoint_id=\(endpointID.map { String($0) } ?? "none")"
            + " token=\(applicationToken) ca=\(caFile ?? "none")"
    }
}
