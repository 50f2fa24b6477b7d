#if canImport(Glibc)
    import Glibc
#endif
import EdgeCommon
import TOMLKit

extension BoardProfile {
    /// Where profiles are looked up, in order: the source tree's `firmware-config/boards` (relative
    /// to the working directory), then the installed `/usr/share/emnify-edge/boards`, then the
    /// administrator's `/etc/emnify-edge/boards`. A later directory overrides an earlier one.
    public static let defaultDirectories = [
        "firmware-config/boards", "/usr/share/emnify-edge/boards", "/etc/emnify-edge/boards",
    ]

    /// Loads `NAME.toml` from the last directory that has it.
    public static func load(named name: String, from directories: [String] = defaultDirectories)
        throws(ModemIdentityError) -> BoardProfile
    {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw .boardNotFound(name: name, searched: directories)
        }
        for directory in directories.reversed() {
            let path = "\(directory)/\(name).toml"
            if access(path, R_OK) == 0 { return try load(path: path) }
        }
        throw .boardNotFound(name: name, searched: directories)
    }

    /// Every profile in a directory, sorted by name.
    public static func loadAll(in directory: String) throws(ModemIdentityError) -> [BoardProfile] {
        let names = PortOwnership.directoryEntries(directory).filter { $0.hasSuffix(".toml") }.sorted()
        var profiles: [BoardProfile] = []
        for file in names { profiles.append(try load(path: "\(directory)/\(file)")) }
        return profiles
    }

    public static func load(path: String) throws(ModemIdentityError) -> BoardProfile {
        guard let text = readTextFile(path) else {
            throw .invalidBoardProfile(path: path, detail: "cannot read the file")
        }
        var name = String(path.split(separator: "/").last ?? "")
        if name.hasSuffix(".toml") { name.removeLast(5) }
        return try parse(toml: text, name: name, path: path)
    }

    /// Parses a profile's TOML text. Unknown keys are rejected so typos do not pass silently.
    public static func parse(toml text: String, name: String, path: String = "<text>")
        throws(ModemIdentityError) -> BoardProfile
    {
        if let finding = TOMLPreflight.check(text) {
            throw .invalidBoardProfile(
                path: path, detail: "line \(finding.line), column \(finding.column): \(finding.message)")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw .invalidBoardProfile(path: path, detail: "\(error)")
        }
        let known: Set<String> = [
            "description", "source", "at_port", "iccid_command", "at_interface", "baud_rate", "quirks",
        ]
        for key in table.keys where !known.contains(key) {
            throw .invalidBoardProfile(path: path, detail: "unknown key '\(key)'")
        }
        func string(_ key: String) throws(ModemIdentityError) -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string else {
                throw .invalidBoardProfile(path: path, detail: "\(key) must be a string")
            }
            return text
        }
        func int(_ key: String) throws(ModemIdentityError) -> Int? {
            guard let value = table[key] else { return nil }
            guard let number = value.int else {
                throw .invalidBoardProfile(path: path, detail: "\(key) must be an integer")
            }
            return number
        }
        var source: ModemSource?
        if let text = try string("source") {
            guard let value = ModemSource(rawValue: text) else {
                throw .invalidBoardProfile(
                    path: path, detail: "source '\(text)' is not auto, modemmanager, at or static")
            }
            source = value
        }
        var quirks: [String] = []
        if let value = table["quirks"] {
            guard let array = value.array else {
                throw .invalidBoardProfile(path: path, detail: "quirks must be an array")
            }
            for item in array {
                guard let text = item.string else {
                    throw .invalidBoardProfile(path: path, detail: "quirks must hold strings")
                }
                quirks.append(text)
            }
        }
        let iccidCommand = try string("iccid_command")
        if let command = iccidCommand, !command.uppercased().hasPrefix("AT") {
            throw .invalidBoardProfile(path: path, detail: "iccid_command must start with AT")
        }
        // A line break would end the command early and send the rest as a second command.
        if let command = iccidCommand, command.contains(where: \.isNewline) {
            throw .invalidBoardProfile(path: path, detail: "iccid_command must be one line")
        }
        return BoardProfile(
            name: name, description: try string("description") ?? "", source: source, atPort: try string("at_port"),
            iccidCommand: iccidCommand, atInterface: try int("at_interface"), baudRate: try int("baud_rate"),
            quirks: quirks
        )
    }

    static func readTextFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
