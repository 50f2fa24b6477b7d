import Foundation
import Testing

@testable import ModemIdentity

/// Inputs from `bash Tests/Fuzz/run` (libFuzzer) and the bugs they led to, kept so the fixed
/// behaviour stays fixed.
@Suite struct ModemFuzzRegressionTests {
    /// at crash-b8d657bfde9f8a6b0e24e8842814db8f470dd3df: vertical tabs inside a `+CCID:` answer.
    /// The harness's "no line break inside a line" check was stricter than the transcript format
    /// (VT separates nothing), but looking at it showed that CRLF transcripts were not split at
    /// all: `"\r\n"` is one Character in Swift, equal to neither `"\r"` nor `"\n"`.
    @Test func verticalTabsStayInsideTheirLine() {
        let input =
            "H3 radio:\nAT^ICCID?\n^ICCID: \"9810144052XWZY397460\"\n\nH4 radio:\nAT!ICCID?\n"
            + "!ICCID: 8901410425WXYZ934706\n\nG2 radio:\nAT+CCID?\n+CCID: \"8901410"
            + String(repeating: "\u{0B}", count: 11) + "425WXYZ934706\"\n"
        let exchanges = ATTranscript.exchanges(input)
        #expect(exchanges.map(\.command).filter { !$0.isEmpty } == ["AT^ICCID?", "AT!ICCID?", "AT+CCID?"])
        let tabs = String(repeating: "\u{0B}", count: 11)
        #expect(exchanges.last?.lines == ["+CCID: \"8901410" + tabs + "425WXYZ934706\""])
        for exchange in exchanges {
            #expect(!exchange.lines.contains { $0.isEmpty || $0.contains { $0 == "\n" || $0 == "\r" || $0 == "\r\n" } })
        }
        #expect(ATFacts.from(transcript: input).iccid == nil)
    }

    /// Every AT fixture saved with CRLF line ends reads exactly like the LF original.
    @Test func crlfTranscriptsReadLikeLF() throws {
        let names = try Fixtures.allNames().filter { $0.hasPrefix("at_") }
        #expect(!names.isEmpty)
        for name in names {
            let text = try Fixtures.text(name)
            guard !text.unicodeScalars.contains("\r") else { continue }
            let crlf = text.replacingOccurrences(of: "\n", with: "\r\n")
            #expect(ATTranscript.exchanges(crlf) == ATTranscript.exchanges(text), "\(name)")
            #expect(ATFacts.from(transcript: crlf) == ATFacts.from(transcript: text), "\(name)")
        }
        let facts = ATFacts.from(transcript: "AT+CIMI\r\n295050901234567\r\nOK\r\nAT+CGSN\r\n356938035643809\r\nOK\r\n")
        #expect(facts.imsi == "295050901234567" && facts.imei == "356938035643809")
    }

    /// Same bug class, found by review: a board profile's `iccid_command` with a line break
    /// would send the rest of the text to the modem as a second command.
    @Test func boardProfileRefusesMultiLineICCIDCommand() {
        for command in [#"AT+QCCID\r\nAT+CFUN=0"#, #"AT+QCCID\nAT+CFUN=0"#, #"AT+QCCID\rAT+CFUN=0"#] {
            #expect(throws: ModemIdentityError.self, "\(command)") {
                try BoardProfile.parse(toml: "iccid_command = \"\(command)\"", name: "x")
            }
        }
        #expect((try? BoardProfile.parse(toml: #"iccid_command = "AT+QCCID""#, name: "x"))?.iccidCommand == "AT+QCCID")
    }

    /// config crash-9d389d06a8f03f9dfe6e3c623b5af98491305601 (minimised `[=`): toml++ aborted the
    /// process on it; board profiles go through the same TOML parser.
    @Test func boardProfileWithANamelessTableHeaderIsAnError() {
        for text in ["[=", "description = \"x\"\n[[#", "[\n"] {
            #expect(throws: ModemIdentityError.self, "\(text.debugDescription)") {
                try BoardProfile.parse(toml: text, name: "x")
            }
        }
    }
}
