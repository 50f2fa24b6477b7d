/// A structural reading of deploy/haproxy/haproxy.cfg, for machines without haproxy (CI does not
/// install it; `haproxy -c` runs where it is installed). haproxy's format: a section keyword
/// (`global`, `defaults`, `frontend NAME`, `backend NAME`, `listen NAME`) at the start of a line,
/// its directives indented below, `#` comments. It checks what a typing slip would break and what
/// the file must share with the relays' files: every directive is inside a section, each section
/// name is unique, every backend that a frontend names exists, every `server` has a name and a
/// `host:port`, and every frontend binds somewhere.
struct HAProxyStructure {
    struct Section {
        let kind: String
        let name: String
        var directives: [[String]] = []
    }

    private(set) var sections: [Section] = []
    private(set) var problems: [String] = []

    init(text: String) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = words.first else { continue }
            if !(raw.hasPrefix(" ") || raw.hasPrefix("\t")) {
                guard ["global", "defaults", "frontend", "backend", "listen"].contains(first) else {
                    problems.append("line \(index + 1): \(first) is not a section keyword")
                    continue
                }
                let name = words.count > 1 ? words[1] : ""
                if first == "frontend" || first == "backend" || first == "listen" {
                    if name.isEmpty { problems.append("line \(index + 1): \(first) without a name") }
                    if sections.contains(where: { $0.kind == first && $0.name == name }) {
                        problems.append("line \(index + 1): \(first) \(name) twice")
                    }
                }
                sections.append(Section(kind: first, name: name))
                continue
            }
            guard !sections.isEmpty else {
                problems.append("line \(index + 1): a directive before the first section")
                continue
            }
            sections[sections.count - 1].directives.append(words)
        }
        let backends = Set(sections.filter { $0.kind == "backend" || $0.kind == "listen" }.map(\.name))
        for section in sections where section.kind == "frontend" || section.kind == "listen" {
            if !section.directives.contains(where: { $0.first == "bind" }) {
                problems.append("\(section.kind) \(section.name) binds nowhere")
            }
            for directive in section.directives where ["default_backend", "use_backend"].contains(directive[0]) {
                if directive.count < 2 || !backends.contains(directive[1]) {
                    problems.append("\(section.kind) \(section.name) names an undefined backend: \(directive)")
                }
            }
        }
        for section in sections where section.kind == "backend" || section.kind == "listen" {
            for directive in section.directives where directive[0] == "server" {
                if directive.count < 3 || Self.port(of: directive[2]) == nil {
                    problems.append("backend \(section.name): server without a name and host:port: \(directive)")
                }
            }
        }
    }

    /// The `host:port` of each server of `backend`, in order.
    func servers(in backend: String) -> [String] {
        sections.filter { $0.kind == "backend" && $0.name == backend }.flatMap(\.directives)
            .filter { $0.first == "server" && $0.count > 2 }.map { $0[2] }
    }

    /// The `bind` lines of the frontends, without the keyword.
    var binds: [String] {
        sections.filter { $0.kind == "frontend" }.flatMap(\.directives).filter { $0.first == "bind" }
            .map { $0.dropFirst().joined(separator: " ") }
    }

    /// The paths of `{ path /x }` conditions: where requests may go.
    var webhookPaths: Set<String> {
        var paths: Set<String> = []
        for directive in sections.flatMap(\.directives) {
            for (index, word) in directive.enumerated() where word == "path" && index + 1 < directive.count {
                paths.insert(directive[index + 1])
            }
        }
        return paths
    }

    /// `timeout NAME VALUE` of the defaults section, as a duration (haproxy's units: ms, s, m, h).
    func timeout(_ name: String) -> Duration? {
        let value = sections.filter { $0.kind == "defaults" }.flatMap(\.directives)
            .first { $0.count == 3 && $0[0] == "timeout" && $0[1] == name }?[2]
        guard let value else { return nil }
        let digits = value.prefix(while: { $0.isNumber })
        guard let number = Int(digits) else { return nil }
        switch value.dropFirst(digits.count) {
        case "", "ms": return .milliseconds(number)
        case "s": return .seconds(number)
        case "m": return .seconds(number * 60)
        case "h": return .seconds(number * 3600)
        default: return nil
        }
    }

    private static func port(of address: String) -> Int? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return Int(address[address.index(after: colon)...]).flatMap { (1...65535).contains($0) ? $0 : nil }
    }
}
