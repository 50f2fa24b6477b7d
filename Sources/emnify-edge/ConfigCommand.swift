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
                never printed. Exit code 0 when run would accept the configuration, 1 when it has problems.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Flag(name: .long, help: "Print the result as one JSON object.")
        var json = false

        func run() async throws {
            let check = ConfigurationCheck.run(path: global.config, environment: ProcessInfo.processInfo.environment)
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
