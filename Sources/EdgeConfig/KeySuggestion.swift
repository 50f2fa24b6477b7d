/// Messages for unknown sections and keys, with the closest known name ("did you mean …?")
/// or the section a key belongs in; each among the keys of one role's file.
enum KeySuggestion {
    static func unknownSection(_ name: String, role: ConfigurationRole = .agent) -> String {
        var message = "unknown section [\(name)]"
        if let owner = ConfigurationRole.allCases.first(where: { $0 != role && $0.sections.contains(name) }) {
            // A section of the other role's file: say which file it belongs in.
            message =
                "[\(name)] belongs in \(owner.possessive) file (\(owner.defaultPath), \(owner.command)), "
                + "not in \(role.possessive); remove it from this file"
            switch (role, name) {
            case (.relay, "agent"):
                message += " (the relay's poll_interval, backfill, look_back and state_dir are in [relay])"
            case (.relay, "modem"):
                message += " (the relay reads no modem: it takes the whole organisation's events)"
            default:
                break
            }
        } else if let sectionsOfKey = sections(holding: name, role: role) {
            message += "; \(name) is a key, it belongs in \(sectionsOfKey)"
        } else if let close = closest(to: name, among: role.sections) {
            message += "; did you mean [\(close)]?"
        } else {
            message += "; the sections are " + role.sections.map { "[\($0)]" }.joined(separator: ", ")
        }
        return message
    }

    static func unknownKey(_ name: String, in section: String, role: ConfigurationRole = .agent) -> String {
        var message = "unknown key \(name) in [\(section)]"
        let names = ConfigurationKey.keys(for: role).filter { $0.section == section }.map(\.name)
        if let close = closest(to: name, among: names) {
            message += "; did you mean \(close)?"
        } else if let elsewhere = sections(holding: name, role: role) {
            message += "; \(name) belongs in \(elsewhere)"
        } else {
            message += "; the keys of [\(section)] are " + names.joined(separator: ", ")
        }
        return message
    }

    /// `[agent]` (or `[api] or [mqtt]`) when `name` is a key of other sections of `role`'s file.
    private static func sections(holding name: String, role: ConfigurationRole) -> String? {
        let holders = ConfigurationKey.keys(for: role).filter { $0.name == name }.map { "[\($0.section)]" }
        return holders.isEmpty ? nil : holders.joined(separator: " or ")
    }

    /// The nearest name by edit distance, if near enough to be a typo (also across `-`/`_`
    /// and case, and camelCase for snake_case).
    static func closest(to name: String, among candidates: [String]) -> String? {
        let normalized = normalize(name)
        if let exact = candidates.first(where: { normalize($0) == normalized }) { return exact }
        var best: (name: String, distance: Int)? = nil
        for candidate in candidates {
            let distance = editDistance(normalized, normalize(candidate))
            if distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let allowed = max(2, min(name.count, best.name.count) / 3)
        return best.distance <= allowed ? best.name : nil
    }

    private static func normalize(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else if character == "-" {
                result += "_"
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Damerau–Levenshtein (optimal string alignment): a swapped pair counts as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
