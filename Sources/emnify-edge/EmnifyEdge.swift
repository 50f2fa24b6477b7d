import ArgumentParser
import EdgeRuntime

@main
struct EmnifyEdge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emnify-edge",
        abstract: "Publishes this gateway's emnify connectivity events to the local MQTT broker.",
        discussion: """
            Reads the modem's identity, finds the SIM and its endpoint in the emnify REST API, \
            and fetches their connectivity events. The subcommands double as field diagnostics.
            """,
        version: EdgeVersion.current,
        subcommands: [
            RunCommand.self, EventsCommand.self, IdentityCommand.self, ConfigCommand.self, DiagnoseCommand.self,
            RelayCommand.self, BridgeConfigCommand.self,
        ]
    )
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config: String = "/etc/emnify-edge/emnify-edge.toml"

    @Flag(name: .shortAndLong, help: "Log requests and decisions to stderr.")
    var verbose = false
}
