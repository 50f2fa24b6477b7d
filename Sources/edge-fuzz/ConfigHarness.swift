import EdgeConfig
import ModemIdentity

enum ConfigHarness {
    /// The configuration file: a configuration or a list of problems (never an empty one); a
    /// configuration written back as TOML from the key table reads back equal. Board profiles:
    /// a profile or a typed error.
    static func configuration(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let configuration = try ConfigurationLoader.parse(text, source: "fuzz.toml")
            if let command = configuration.modem.iccidCommand {
                require(!command.contains(where: \.isNewline), "iccid_command with a line break was accepted")
            }
            let written = render(configuration)
            do {
                let again = try ConfigurationLoader.parse(written, source: "rendered.toml")
                require(again == configuration, "the configuration written back reads differently:\n\(written)")
            } catch {
                fatalError("contract broken: the configuration written back does not read: \(error)\n\(written)")
            }
        } catch {
            require(!error.problems.isEmpty, "an error without problems")
            for problem in error.problems {
                if let line = problem.line { require(line >= 1, "problem on line \(line)") }
                _ = problem.description(in: text)
            }
            _ = error.description
        }
        if let profile = try? BoardProfile.parse(toml: text, name: "fuzz") {
            if let command = profile.iccidCommand {
                require(command.uppercased().hasPrefix("AT") && !command.contains(where: \.isNewline), "iccid_command")
            }
        }
    }

    static func render(_ configuration: EdgeConfiguration) -> String {
        var text = ""
        for section in ConfigurationKey.sections {
            text += "[\(section)]\n"
            for key in ConfigurationKey.all where key.section == section {
                if let value = key.render(configuration) { text += "\(key.name) = \(value)\n" }
            }
        }
        return text
    }
}
