import Foundation
import Testing

/// `firmware-config/udev/*.rules`. Debian 12's udev (252) has no `udevadm verify` (253+), so
/// the rules' grammar is checked here: every line is comma-separated KEY[{attr}] OP "value"
/// pairs, with operators that fit the key (matches only ==/!=), GOTO targets that exist, and
/// modems that the board profiles describe. When `udevadm verify` exists it runs as well.
@Suite struct UdevRulesTests {
    static let directory = "firmware-config/udev"

    static let matchKeys: Set<String> = [
        "ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTRS",
        "TAGS", "TEST", "PROGRAM", "RESULT",
    ]
    static let assignKeys: Set<String> = [
        "NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "TAG", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS",
    ]
    static let eitherKeys: Set<String> = ["ATTR", "ENV", "SYSCTL"]

    static func ruleFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(
            at: RepositoryFiles.url(directory), includingPropertiesForKeys: nil
        ).filter { $0.pathExtension == "rules" }.sorted { $0.path < $1.path }
    }

    struct Pair: Equatable {
        let key: String
        let attribute: String?
        let op: String
        let value: String
    }

    /// One rule line as pairs, or nil when it does not parse.
    static func parse(_ line: String) -> [Pair]? {
        let pattern = #/^\s*([A-Z_]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)/#
        var rest = Substring(line)
        var pairs: [Pair] = []
        while !rest.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let match = rest.prefixMatch(of: pattern) else { return nil }
            pairs.append(
                Pair(
                    key: String(match.1), attribute: match.2.map(String.init), op: String(match.3),
                    value: String(match.4)))
            rest = rest[match.range.upperBound...]
        }
        return pairs
    }

    static func problems(in pairs: [Pair]) -> [String] {
        var problems: [String] = []
        for pair in pairs {
            let isMatch = pair.op == "==" || pair.op == "!="
            if matchKeys.contains(pair.key) {
                if !isMatch { problems.append("\(pair.key) only matches (== or !=)") }
            } else if assignKeys.contains(pair.key) {
                if isMatch && !["TAG", "RESULT"].contains(pair.key) { problems.append("\(pair.key) is assigned") }
            } else if !eitherKeys.contains(pair.key) {
                problems.append("unknown key \(pair.key)")
            }
            if ["ATTR", "ATTRS", "ENV"].contains(pair.key) && pair.attribute == nil {
                problems.append("\(pair.key) needs {name}")
            }
        }
        if !pairs.contains(where: { $0.op == "==" || $0.op == "!=" || $0.key == "LABEL" }) {
            problems.append("a rule without a match applies to every device")
        }
        return problems
    }

    @Test func everyRuleLineParses() throws {
        let files = try Self.ruleFiles()
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            var labels: Set<String> = []
            var gotos: Set<String> = []
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                var rule = String(line)
                // A commented-out alternative must parse too.
                if rule.hasPrefix("#ENV") || rule.hasPrefix("#KERNEL") { rule.removeFirst() }
                if rule.hasPrefix("#") || rule.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                #expect(!rule.hasSuffix("\\"), "\(file.lastPathComponent):\(number + 1): no continuation lines")
                guard let pairs = Self.parse(rule) else {
                    Issue.record("\(file.lastPathComponent):\(number + 1): does not parse: \(rule)")
                    continue
                }
                #expect(Self.problems(in: pairs) == [], "\(file.lastPathComponent):\(number + 1)")
                for pair in pairs where pair.key == "LABEL" { labels.insert(pair.value) }
                for pair in pairs where pair.key == "GOTO" { gotos.insert(pair.value) }
            }
            #expect(gotos.isSubset(of: labels), "GOTO without LABEL in \(file.lastPathComponent)")
        }
    }

    /// The grammar check finds what it should.
    @Test func grammarCheckRejectsMistakes() {
        #expect(Self.parse(#"SUBSYSTEM=="tty", SYMLINK+="x""#) != nil)
        #expect(Self.parse(#"SUBSYSTEM=="tty" SYMLINK+="x""#) == nil)  // missing comma
        #expect(Self.parse(#"SUBSYSTEM=="tty", SYMLINK+=x"#) == nil)  // unquoted
        #expect(Self.problems(in: Self.parse(#"SUBSYSTEM="tty""#)!) != [])
        #expect(Self.problems(in: Self.parse(#"SYMLINK+="x""#)!) != [])
        #expect(Self.problems(in: Self.parse(#"FOO=="x""#)!) != [])
    }

    /// Each modem the rules name (idVendor:idProduct) is one the board profiles describe,
    /// and every rule that names the port gives it the stable name.
    @Test func modemsMatchTheBoardProfiles() throws {
        let boards = try FileManager.default.contentsOfDirectory(
            at: RepositoryFiles.url("firmware-config/boards"), includingPropertiesForKeys: nil
        ).filter { $0.pathExtension == "toml" }.map { try String(contentsOf: $0, encoding: .utf8) }
            .joined(separator: "\n")
        for file in try Self.ruleFiles() {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("ENV{.EMNIFY_VID}") {
                guard let pairs = Self.parse(String(line)) else { continue }
                let vendor = pairs.first { $0.attribute == ".EMNIFY_VID" }?.value ?? ""
                let products = pairs.first { $0.attribute == ".EMNIFY_PID" }?.value.split(separator: "|") ?? []
                #expect(pairs.contains { $0.key == "SYMLINK" && $0.value == "emnify-modem-at" })
                for product in products {
                    // "USB 1199:9091 (MBIM) / 9090 (QMI)": the vendor id with a colon, the product as a word.
                    #expect(
                        boards.contains("\(vendor):") && boards.contains(product),
                        "\(vendor):\(product) has no board profile")
                }
            }
        }
    }
}
