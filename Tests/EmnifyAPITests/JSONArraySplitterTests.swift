@testable import EmnifyAPI
import Testing

@Suite struct JSONArraySplitterTests {
    func split(_ text: String) throws -> [String] {
        try JSONArraySplitter.split(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func splitsElementsKeepingTheirExactBytes() throws {
        #expect(
            try split(#"[ {"a": "x,]}\"y", "b": [1, {"c": null}]} , 42,"s",true ]"#)
                == [#"{"a": "x,]}\"y", "b": [1, {"c": null}]}"#, "42", #""s""#, "true"])
        #expect(try split(" [ ] ") == [])
        #expect(try split("[1]") == ["1"])
    }

    @Test(arguments: [
        ("", "not an array"), ("{}", "not an array"), ("[", "truncated"), (#"[{"a": 1}"#, "truncated"),
        (#"[{"a": "unterminated}]"#, "truncated"), ("[1,]x", "unexpected"), ("[1] trailing", "unexpected"),
        ("[1 2]", "unexpected"), ("[}]", "unexpected"), ("<html>503</html>", "not an array"),
    ])
    func rejectsMalformedInput(text: String, kind: String) {
        #expect(throws: APIDecodingError.self) { try split(text) }
    }

    @Test func refusesDeepNesting() {
        let deep = "[" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "]"
        #expect(throws: APIDecodingError.tooDeep(limit: JSONArraySplitter.maxDepth)) { try split(deep) }
    }

    @Test func compactorRemovesOnlyInsignificantWhitespace() {
        let compact = JSONCompactor.compact(Array("{ \"a b\" : [ 1 , \"x\\\" y\" ] }\n".utf8))
        #expect(String(decoding: compact, as: UTF8.self) == #"{"a b":[1,"x\" y"]}"#)
    }
}
