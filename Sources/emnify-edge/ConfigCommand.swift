import ArgumentParser
import EdgeConfig
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the configuration file.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the configuration file and report every problem with its key and line.",
            discussion: """
                The same validation as run: the application token (from EMNIFY_APPLICATION_TOKEN, the \
                systemd credential application-token, or api.token_file, in that order) and the broker \
                password file must be readable and hold one word. Says where the token comes from and warns \
                when a secret file is readable by others or state_dir does not exist yet; the token itself is \
                never printed. Exit code 0 when run would accept the configuration, 1 when it has problems. \
                With --relay (implied for a file named relay.toml) it checks the fleet relay's file as \
                emnify-edge relay reads it: also the webhook token (EMNIFY_WEBHOOK_TOKEN, the systemd \
                credential webhook-token, or relay.webhook_token_file) and the TLS certificate and key.
                """
        )

        // Not the shared GlobalOptions: the default file depends on --relay, so an unset --config must be told
        // apart from the agent's default given explicitly.
        @Option(
            name: .long,
            help: ArgumentHelp(
                "Configuration file (default: \(ConfigurationRole.agent.defaultPath); with --relay, "
                    + "\(ConfigurationRole.relay.defaultPath)).", valueName: "file"))
        var config: String?

        @Flag(name: .shortAndLong, help: "Log requests and decisions to stderr.")
        var verbose = false

        @Flag(name: .long, help: "Check the fleet relay's configuration (emnify-edge relay).")
        var relay = false

        @Flag(name: .long, help: "Print the result as one JSON object.")
        var json = false

        /// The relay's with --relay or for a file named relay.toml, else the agent's.
        var role: ConfigurationRole {
            if relay { return .relay }
            return config.map(ConfigurationRole.detected(forPath:)) ?? .agent
        }

        func run() async throws {
            let role = self.role
            let check = ConfigurationCheck.run(
                path: config ?? role.defaultPath, environment: ProcessInfo.processInfo.environment, role: role)
            if json {
                print(check.json)
            } else if check.isValid {
                for line in check.lines { print(line) }
            } else {
                for line in check.lines { printToStandardError(line) }
            }
            if !check.isValid { throw ExitCode.failure }
        }
    }
}

private func printToStandardError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { buffer in
            write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}
