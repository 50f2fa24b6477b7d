@testable import EmnifyAPI
import EmnifyEmulator
import Foundation
import Testing
import TestSupport

/// The fast reader may only agree with the `Decodable` path: whenever it reads an event, the
/// decoder reads the same event; whatever it is unsure of, it leaves to the decoder.
@Suite("Event fast reader agrees with JSONDecoder")
struct EventFastReaderTests {
    /// Checks the rule for one input; returns whether the fast reader took it.
    @discardableResult
    static func agree(_ json: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let fast = EventFastReader.read(json[...])
        let slow = Result { () throws(APIDecodingError) in try EmnifyEvent(decoding: json[...]) }
        guard let fast else { return false }
        switch slow {
        case .success(let event):
            #expect(fast == event, "\(String(decoding: json, as: UTF8.self))", sourceLocation: sourceLocation)
        case .failure(let error):
            Issue.record(
                "fast reader accepted what the decoder refuses (\(error)): \(String(decoding: json, as: UTF8.self))",
                sourceLocation: sourceLocation)
        }
        return true
    }

    @Test(arguments: try EventDecodingTests.fixtureNames())
    func readsEveryDocumentedExampleAsTheDecoderDoes(name: String) throws {
        #expect(Self.agree(try EventDecodingTests.bytes(name)), "the fast reader should take \(name)")
    }

    @Test func readsTheEmulatorsEventsAsTheDecoderDoes() async throws {
        let test = try await TestEmulator.start(.init(tls: .none, applicationToken: "t", history: 1_500))
        defer { Task { await test.stop() } }
        let token = try await test.authToken()
        let sim = test.emulator.simID
        let page = try await test.curl("/api/v1/sim/\(sim)/event?per_page=1000", token: token)
        let elements = try JSONArraySplitter.split(Array(page.body))
        #expect(elements.count == 1000)
        let taken = elements.filter { Self.agree(Array($0)) }.count
        #expect(taken == elements.count, "every generated event is plain ASCII without escapes")
    }

    /// Shapes the fast reader must take (and read as the decoder does).
    @Test(arguments: [
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":3}}"#,
        #" { "id" : -7 , "timestamp" : "2017-10-26T07:28:00.000+0000" , "event_type" : { "name" : "x" , "id" : 0 } } "#,
        #"{"id":9223372036854775807,"timestamp":"2021-10-27T08:38:02Z","event_type":{"id":1,"description":null,"name":"n"},"alert":1}"#,
        #"{"id":2,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"alert":0,"imsi":"901430000000001","detail":null}"#,
        #"{"id":3,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"endpoint":null,"sim":{"id":null,"iccid":null},"imsi":{"imsi":null}}"#,
        #"{"id":4,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"detail":{"x":[1,-0.5e+3,true,false,null,{},[],{"a":[{}]}],"pdp_context":{"rat_type":6},"country":{"iso_code":"de"}}}"#,
        #"{"id":5,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"event_source":{"id":2},"event_severity":{"id":1,"description":"WARN"},"user":{"id":1,"name":"a","name":"b"}}"#,
        #"{"id":6,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"alert":null,"description":null,"tags":null}"#,
    ])
    func takesPlainEvents(json: String) {
        #expect(Self.agree(Array(json.utf8)), "the fast reader should take this")
    }

    /// Inputs it must leave to the decoder (the decoder then reads or refuses them).
    @Test(arguments: [
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"description":"a \"quoted\" word"}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"detail":{"name":"Telefónica"}}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"i\u0064":2}"#,
        #"{"id":1,"id":2,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1,"id":2}}"#,
        #"{"id":1.0,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"id":1e3,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"id":9223372036854775808,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"id":"1","timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"id":null,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"id":1,"timestamp":"yesterday","event_type":{"id":1}}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"description":"no id"}}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":"1"}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"alert":"yes"}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"endpoint":{"id":"12"}}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"detail":[]}"#,
        #"{"id":01,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"x":01}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"x":1.}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"x":-}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"x":tru}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},"x":[1,]}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1},}"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}} x"#,
        #"{"id":1,"timestamp":"2021-10-27T08:38:02.000Z","event_type":{"id":1}"#,
        "{\"id\":1,\"timestamp\":\"2021-10-27T08:38:02.000Z\",\"event_type\":{\"id\":1},\"d\":\"tab\there\"}",
        #"[1]"#, #"1"#, #""#,
    ])
    func leavesTheRestToTheDecoder(json: String) {
        #expect(!Self.agree(Array(json.utf8)), "the decoder should decide this one")
    }

    /// Thousands of mutated documented examples: wherever the fast reader answers, it agrees.
    @Test func mutatedExamplesNeverMakeThemDisagree() throws {
        var mutator = Mutator(seed: 0xFA57)
        let originals = try EventDecodingTests.fixtureNames().map { try EventDecodingTests.bytes($0) }
        var taken = 0
        for round in 0..<20_000 {
            if Self.agree(mutator.mutate(originals[round % originals.count])) { taken += 1 }
        }
        #expect(taken > 1_000, "the mutations also reach events the fast reader takes")
    }
}
