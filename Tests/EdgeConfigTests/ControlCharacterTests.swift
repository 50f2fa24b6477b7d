import EdgeCommon
import EdgeConfig
import Testing

/// Issue 14, defect 3: toml++ reads a C string, so a NUL ended the configuration there without a
/// word; raw control characters are refused with their line and column before TOMLKit sees them.
@Suite struct ControlCharacterTests {
    private func problems(in text: String) -> [ConfigurationProblem] {
        do {
            _ = try ConfigurationLoader.parse(text, source: "edge.toml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func aNULFollowedByGarbageAndAnUnknownTableIsRefused() {
        let found = problems(in: "[api]\ntimeout = \"5s\"\0garbage\n[unknown]\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 2 && found.first?.column == 15)
        #expect(found.first?.message.contains("U+0000 (NUL)") == true)
    }

    @Test func aNULBeforeASectionDoesNotHideIt() {
        let found = problems(in: "# settings\n\0\n[agent]\nstate_dir = \"/tmp/x\"\n")
        #expect(found.map(\.line) == [2])
        #expect(found.first?.column == 1)
    }

    @Test func everyC0ControlButTabAndLineBreaksIsRefusedInValuesStringsAndComments() {
        for value in Array(0x00...0x08) + Array(0x0B...0x0C) + Array(0x0E...0x1F) + [0x7F] {
            let control = String(Character(Unicode.Scalar(UInt8(value))))
            for text in ["a = 1\(control)", "s = \"x\(control)y\"", "# note \(control)", "\(control)[api]"] {
                let found = problems(in: text)
                #expect(
                    found.count == 1 && found.first?.message.contains("control character") == true,
                    "\(text.debugDescription)")
            }
        }
        #expect(problems(in: "[api]\r\ntimeout = \"5s\"\r").first?.line == 2, "a lone CR at the end")
        #expect(problems(in: "[api]\rtimeout = \"5s\"").first?.column == 6, "a CR inside a line")
    }

    @Test func tabsAndCRLFLineEndsStayValid() throws {
        let configuration = try ConfigurationLoader.parse(
            "[agent]\r\n\tpoll_interval\t=\t\"2m\"\t# tab\r\n", source: "edge.toml")
        #expect(configuration.agent.pollInterval == .seconds(120))
        #expect(TOMLPreflight.check("x = \"\\u0000\"") == nil, "an escaped NUL is fine")
    }
}
