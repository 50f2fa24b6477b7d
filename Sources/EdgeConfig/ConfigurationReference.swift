/// The configuration references, rendered from `ConfigurationKey.table` so the README, deploy/README.md
/// and the `emnify-edge.toml(5)` and `emnify-edge-relay.toml(5)` man pages cannot drift from what the
/// loader accepts.
public enum ConfigurationReference {
    /// `role`'s file: a Markdown table per section, in table order (which is `role.sections`' order).
    public static func markdown(role: ConfigurationRole) -> String {
        markdown(keys: ConfigurationKey.keys(for: role), role: role)
    }

    /// A Markdown table per section: key, type, default, description (the summary `role`'s reference gives).
    public static func markdown(keys: [ConfigurationKey] = ConfigurationKey.all, role: ConfigurationRole = .agent)
        -> String
    {
        var output = ""
        var sections: [String] = []
        for key in keys where !sections.contains(key.section) { sections.append(key.section) }
        for (index, section) in sections.enumerated() {
            if index > 0 { output += "\n" }
            output += "### `[\(section)]`\n\n"
            output += "| Key | Type | Default | Description |\n"
            output += "| --- | --- | --- | --- |\n"
            for key in keys where key.section == section {
                let defaultCell =
                    key.render(EdgeConfiguration()).map { "`\($0)`" }
                    ?? "unset: \(key.unsetMeaning(for: role) ?? "none")"
                let cells = ["`\(key.name)`", key.type, defaultCell, key.summary(for: role)].map(escapeCell)
                output += "| " + cells.joined(separator: " | ") + " |\n"
            }
        }
        return output
    }

    /// Pipes would end a cell; line breaks would end the row.
    static func escapeCell(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "|": result += "\\|"
            case "\n", "\r\n": result += " "
            default: result.append(character)
            }
        }
        return result
    }
}
