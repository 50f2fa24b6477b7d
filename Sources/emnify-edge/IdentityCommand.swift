import ArgumentParser
import EdgeReports
import EdgeRuntime
import ModemIdentity

struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Show the modem's identity (IMEI, ICCID, IMSI) and where it was read from.",
        discussion: """
            Sources, in the order 'auto' tries them: ModemManager (mmcli), AT commands on [modem] at_port, \
            and the static values of the configuration.
            """
    )

    @OptionGroup var global: GlobalOptions

    @OptionGroup var modem: ModemOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await reportingFailures {
            let context = try CommandContext(options: global)
            let reader = try modem.reader(context)
            do throws(ModemIdentityError) {
                let report = try await reader.read()
                print(
                    json ? IdentityReport(report).renderJSON() : IdentityReport(report).renderText(),
                    terminator: json ? "\n" : "")
            } catch {
                if json { print(IdentityReport.renderJSON(error: error)) }
                throw CommandFailure("\(error)")
            }
        }
    }
}

/// Where the modem's identity is read from: `identity` and `bridge-config` read it the same way.
struct ModemOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("Read from this source for this run: auto, modemmanager, at or static.", valueName: "source")
    )
    var source: ModemSource?

    @Option(help: ArgumentHelp("Use this board profile (e.g. quectel-ec25).", valueName: "name"))
    var board: String?

    /// The configured reader with `--source` and `--board` applied.
    func reader(_ context: CommandContext) throws -> ModemIdentityReader {
        try context.parts.modemReader(source: source, board: board)
    }
}

extension ModemSource: ExpressibleByArgument {}
