@testable import EmnifyEmulator
import Foundation
import Testing

@Suite("The emulator's JSON rendering")
struct JSONRenderingTests {
    @Test(arguments: [
        ("plain", #""plain""#),
        ("Grüße aus Köln – 5G 📶", #""Grüße aus Köln – 5G 📶""#),
        (#"say "hi""#, #""say \"hi\"""#),
        (#"C:\path"#, #""C:\\path""#),
        ("line\nbreak\ttab\r", #""line\nbreak\ttab\r""#),
        ("bell\u{07}nul\u{00}", #""bell\u0007nul\u0000""#),
        ("", #""""#),
    ])
    func stringsAreQuotedAndEscaped(text: String, expected: String) throws {
        let rendered = JSONValue.string(text).rendered
        #expect(rendered == expected)
        // And a JSON parser reads back exactly the text (both the whole-string and the escaping path).
        let decoded = try JSONDecoder().decode([String].self, from: Data("[\(rendered)]".utf8))
        #expect(decoded == [text])
    }

    @Test func objectsKeepTheirKeyOrder() {
        let value: JSONValue = .object([("b", 1), ("a", .array([true, nil, "x\"y"]))])
        #expect(value.rendered == #"{"b":1,"a":[true,null,"x\"y"]}"#)
    }
}
