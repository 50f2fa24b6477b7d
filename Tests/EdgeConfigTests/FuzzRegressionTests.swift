import EdgeCommon
import EdgeConfig
import Foundation
import Testing

/// Inputs from `bash Tests/Fuzz/run` (libFuzzer) that broke the configuration parser.
@Suite struct ConfigurationFuzzRegressionTests {
    /// config crash-9d389d06a8f03f9dfe6e3c623b5af98491305601: the shipped file with the comment
    /// line `[<type>, .../state, …` moved to the start of a line. toml++ 3.4.0 (inside TOMLKit)
    /// aborted the process on an assertion in its key parser (minimised: `[=`); the loader now
    /// reports a problem at that line instead.
    @Test func tableHeaderWithoutANameIsAProblemNotAnAbort() throws {
        let shipped = try String(contentsOfFile: ShippedConfigurationTests.path, encoding: .utf8)
        let lines = shipped.split(separator: "\n", omittingEmptySubsequences: false)
        let mqtt = try #require(lines.firstIndex(of: "[mqtt]"))
        let text = (lines[..<mqtt] + ["[<type>, .../state, .../identity, .../status"] + lines[mqtt...])
            .joined(separator: "\n")
        let found = problems(in: text)
        #expect(found.count == 1)
        #expect(found.first?.line == mqtt + 1 && found.first?.column == 1)
        #expect(found.first?.message.contains("table header") == true)

        for text in ["[=", "[[#", "[\n", "[ \t=", "[[ !x]]", "a = 1\n  [=]", "[api]\n[.x]"] {
            #expect(problems(in: text).count == 1, "\(text.debugDescription)")
        }
    }

    /// What the check must leave alone: `[` inside strings, arrays and inline tables, quoted and
    /// dotted header names, and headers toml++ rejects on its own (`[]`, `[ [x]]`).
    @Test func preflightPassesValidTOML() {
        let valid = [
            "[api]\nurl = \"https://x\"", "[\"a]b\".c]\n[[ 'd' ]]", "[ api ]  # comment",
            "x = [\n  [1],\n  ['a'],\n  [\"=\"],\n]", "x = \"\"\"\n[=\n\"\"\"\ny = '''\n[#\n'''",
            "x = { a = [ [1] ] }\n[t]", "s = \"a\\\"[=\"", "# [=\nk = 1 # [=", "x = \"\"\"a\"\"\"\"\"\n[b]",
            "[]", "[ [x]]",
        ]
        for text in valid {
            #expect(TOMLPreflight.unsafeTableHeader(in: text) == nil, "\(text.debugDescription)")
        }
        let position = TOMLPreflight.unsafeTableHeader(in: "ok = 1\n\n  [=")
        #expect(position?.line == 3 && position?.column == 3)
    }
}
