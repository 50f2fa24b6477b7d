/// Which of emnify-edge's two roles a configuration file is for. One key table
/// (`ConfigurationKey.table`) serves both; the role decides which sections and keys a file may
/// have, which file is read by default and which command the messages name.
///
/// - `agent`: `emnify-edge run` on a gateway, `/etc/emnify-edge/emnify-edge.toml`.
/// - `relay`: `emnify-edge relay`, the fleet relay that takes the organisation's events once and
///   publishes them per SIM onto a clustered MQTT engine, `/etc/emnify-edge/relay.toml`.
public enum ConfigurationRole: String, Sendable, Hashable, CaseIterable {
    case agent, relay

    /// The file the role reads when `--config` is not given.
    public var defaultPath: String {
        switch self {
        case .agent: return "/etc/emnify-edge/emnify-edge.toml"
        case .relay: return "/etc/emnify-edge/relay.toml"
        }
    }

    /// The sections its file may have, in the order the reference and the shipped file list them.
    public var sections: [String] {
        switch self {
        case .agent: return ["api", "modem", "agent", "mqtt", "log"]
        case .relay: return ["api", "mqtt", "relay", "log"]
        }
    }

    /// The command that runs with this configuration.
    public var command: String {
        switch self {
        case .agent: return "emnify-edge run"
        case .relay: return "emnify-edge relay"
        }
    }

    /// "the agent's" / "the relay's", for messages.
    var possessive: String { "the \(rawValue)'s" }

    /// The relay when the file is named `relay.toml` (as `config check` detects it), else the agent.
    public static func detected(forPath path: String) -> ConfigurationRole {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path)
        return name == "relay.toml" ? .relay : .agent
    }
}
