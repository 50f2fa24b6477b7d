import ArgumentParser
import EdgeConfig
import EdgeRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `emnify-edge relay`: hands over to the relay's own executable (exec, same process: systemd's
/// notify socket and signals stay as they are). The relay is a separate binary so that the agent
/// on a gateway does not carry its HTTP server and TLS stack.
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Run the fleet relay: the organisation's events, taken once, published per SIM on an MQTT cluster.",
        discussion: """
            Not for gateways: one or two relays serve a whole fleet. Receives emnify's Data Streamer on its \
            webhook and polls GET /api/v1/event to reconcile; publishes on the cluster named in [mqtt] hosts. \
            The relay is the executable emnify-edge-relay next to this one or in /usr/libexec/emnify-edge/.
            """
    )

    @Option(help: ArgumentHelp("The relay's configuration file.", valueName: "file"))
    var config = ConfigurationRole.relay.defaultPath

    @Flag(name: .shortAndLong, help: "Log at debug level.")
    var verbose = false

    static let installed = "/usr/libexec/emnify-edge/emnify-edge-relay"

    func run() throws {
        let candidates = [Self.besideThisExecutable(), Self.installed].compactMap { $0 }
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            printError(
                "the relay is not installed (looked for \(candidates.joined(separator: " and "))); "
                    + "install the emnify-edge package's relay or build the emnify-edge-relay product")
            throw ExitCode(1)
        }
        let arguments = [path, "--config", config] + (verbose ? ["--verbose"] : [])
        var argv = arguments.map { strdup($0) } + [nil]
        execv(path, &argv)
        printError("cannot start \(path): \(String(cString: strerror(errno)))")
        throw ExitCode(1)
    }

    static func besideThisExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash]) + "/emnify-edge-relay"
    }
}
