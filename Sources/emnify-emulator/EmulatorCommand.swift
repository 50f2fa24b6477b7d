import ArgumentParser
import Dispatch
import EmnifyEmulator

#if canImport(Glibc)
    import Glibc
#endif

@main
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emnify-emulator",
        abstract: "A local stand-in for the part of the emnify REST API that emnify-edge uses.",
        subcommands: [Serve.self, Demo.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the emulated API until SIGTERM or SIGINT.",
        discussion: """
            Once listening, prints one line on stdout for a parent process:
            EMULATOR_READY url=<base URL> iccid=<20 digits> sim_id=<id> endpoint_id=<id|none> token=<token> ca=<file|none>
            """
    )

    @Option(help: "Loopback address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 0
    @Option(help: "none, self-signed, or untrusted (certificate from a CA that is not handed out).")
    var tls: TLSOption = .selfSigned
    @Option(help: "Write the throwaway CA certificate (PEM) to this file.") var caFile: String?
    @Option(help: "The application token that authenticate accepts.") var token = "emulator-application-token"
    @Option(help: "Lifetime of issued JWTs in seconds.") var tokenLifetime = 4 * 3600
    @Option(help: "Seed for all generated values.") var seed: UInt64 = 1
    @Option(help: "Events generated into the past at start.") var history = 300
    @Option(
        help: "Seconds back that the history reaches (default: one event per 5 minutes, or as --event-rate implies).")
    var historySpan: Double?
    @Option(help: "New events per minute while running (0 = none).") var eventRate: Double = 0
    @Flag(help: "The SIM has no endpoint assigned.") var noEndpoint = false
    @Option(help: "Close connections idle for this many seconds.") var idleTimeout: Double?
    @Flag(help: "Speak HTTP/2 over TLS as well (ALPN offers h2 and http/1.1).") var http2 = false
    @Flag(help: "Send a CDN's response header block (CloudFront and Express, about 1.4 KB, per-response ids).")
    var cdnHeaders = false
    @Option(help: "SIMs of the organisation, each with an endpoint (the history is the first SIM's).") var sims = 1

    enum TLSOption: String, ExpressibleByArgument, CaseIterable {
        case none
        case selfSigned = "self-signed"
        case untrusted
    }

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard tokenLifetime > 0 else { throw ValidationError("--token-lifetime must be positive") }
        guard history >= 0 else { throw ValidationError("--history must not be negative") }
        if let historySpan, !(historySpan > 0 && historySpan <= 30 * 86_400) {
            throw ValidationError("--history-span must be more than 0 and at most 30 days (2592000 s)")
        }
        guard (1...1_000_000).contains(sims) else { throw ValidationError("--sims must be 1...1000000") }
        guard eventRate >= 0 else { throw ValidationError("--event-rate must not be negative") }
        if caFile != nil && tls == .none { throw ValidationError("--ca-file needs --tls self-signed or untrusted") }
        if http2 && tls == .none { throw ValidationError("--http2 needs --tls self-signed or untrusted") }
    }

    func run() async throws {
        let signals = TerminationSignals()
        let mode: EmulatorServer.TLSMode =
            switch tls {
            case .none: .none
            case .selfSigned: .selfSigned
            case .untrusted: .untrusted
            }
        var configuration = EmulatorServer.Configuration(
            tls: mode, host: host, port: port, applicationToken: token,
            tokenLifetime: .seconds(tokenLifetime), seed: seed, history: history,
            historySpan: historySpan.map { .milliseconds(Int64($0 * 1000)) },
            eventRate: eventRate > 0 ? eventRate : nil, hasEndpoint: !noEndpoint,
            idleTimeout: idleTimeout.map { .milliseconds(Int64($0 * 1000)) })
        configuration.http2 = http2
        configuration.cdnHeaders = cdnHeaders
        configuration.sims = sims
        let emulator = try await EmulatorServer.start(configuration)
        if let caFile { try emulator.writeCACertificate(to: caFile) }
        // Unbuffered, so a parent reading a pipe sees the line at once.
        let line = emulator.readyLine(caFile: caFile) + "\n"
        _ = line.withCString { write(1, $0, strlen($0)) }
        _ = await signals.wait()
        await emulator.stop()
    }
}
