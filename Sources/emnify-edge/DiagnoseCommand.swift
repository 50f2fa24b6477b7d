import ArgumentParser
import EdgeConfig
import EdgeDiagnostics
import EdgeRuntime
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Check every link from the modem to the local broker and say what to do next.",
        discussion: """
            Checks the configuration, the clock, the modem, the network path to the API, the emnify account, \
            emnify's view of connectivity, the recent events, the local broker and the agent daemon; in bridge mode \
            ([agent] events = "bridge") also the bridge to the fleet cluster, the relays' statuses and how far the \
            gateway's newest event lags the API's. The report names the mode. Each check is \
            PASS, WARN or FAIL with a one-line finding and, when not PASS, the next step. \
            Exit status: 0 when all checks pass, 1 when any fails, 2 for warnings only.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print one JSON document with every check, for scripts and remote support.")
    var json = false

    @Option(
        name: .customLong("reset-connectivity"),
        help: ArgumentHelp(
            "Closed-loop test: reset the device's location or data session through the API and time how long the events take to reach the broker.",
            valueName: "location|pdp"))
    var resetConnectivity: String?

    @Flag(help: "Do not ask before --reset-connectivity (it briefly disconnects the device).")
    var yes = false

    @Option(help: ArgumentHelp("Write a support bundle (tar.gz, secrets redacted) to this file.", valueName: "file"))
    var bundle: String?

    func validate() throws {
        if let resetConnectivity {
            guard ConnectivityResetLoop.Kind(rawValue: resetConnectivity) != nil else {
                throw ValidationError("--reset-connectivity must be 'location' or 'pdp'")
            }
            if !yes && isatty(0) == 0 {
                throw ValidationError("--reset-connectivity briefly disconnects the device: add --yes to confirm")
            }
        }
    }

    func run() async throws {
        // The checks report every problem themselves; log lines would only repeat them.
        LoggingBootstrap.once(level: global.verbose ? .debug : .critical)
        let resetKind = resetConnectivity.flatMap(ConnectivityResetLoop.Kind.init(rawValue:))
        if let resetKind, !yes, !Self.confirm(resetKind) {
            printError("cancelled; nothing was reset")
            throw ExitCode(1)
        }
        let inputs = DiagnosticInputs(
            configPath: global.config, environment: CommandContext.environment, version: EdgeVersion.current)
        let session = DiagnosticSession(inputs: inputs)
        var report = await DiagnosticReport.make(session)
        if let resetKind {
            let loop = ConnectivityResetLoop(
                kind: resetKind,
                timeout: ConnectivityResetLoop.defaultTimeout(pollInterval: session.configuration.agent.pollInterval))
            report.checks.append(await loop.run(session) { line in printError(line) })
        }
        let redactor = session.redactor
        let colour = !json && isatty(1) == 1 && CommandContext.environment["NO_COLOR"] == nil
        print(redactor.redact(json ? report.json() : report.text(colour: colour)), terminator: "")
        if let bundle {
            do {
                try await SupportBundle.write(to: bundle, report: report, session: session)
                printError("support bundle written to \(bundle)")
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    static func confirm(_ kind: ConnectivityResetLoop.Kind) -> Bool {
        var stderr = StandardError()
        print(
            "This resets the device's \(kind == .location ? "network registration" : "data session") through the emnify API; "
                + "it briefly disconnects the device. Continue? [y/N] ", terminator: "", to: &stderr)
        guard let answer = readLine() else { return false }
        return ["y", "yes"].contains(answer.lowercased())
    }
}
