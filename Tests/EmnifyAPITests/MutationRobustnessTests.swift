import EdgeCommon
import EmnifyAPI
import Foundation
import Testing
import TestSupport

/// Every parser of outside input from the API, fed thousands of mutated documented examples:
/// a value or a typed error every time, never a crash. Seeded, so a failure can be replayed.
@Suite struct MutationRobustnessTests {
    static let iterations = 3000

    static func page() throws -> [UInt8] {
        let names = try EventDecodingTests.fixtureNames()
        let events = try names.prefix(12).map { try EventDecodingTests.bytes($0) }
        return Array("[".utf8) + Array(events.joined(separator: Array(",".utf8))) + Array("]".utf8)
    }

    @Test func eventPagesNeverCrashTheSplitterOrTheDecoder() throws {
        var mutator = Mutator(seed: 0x0E7E_27)
        let original = try Self.page()
        var decoded = 0, rejected = 0
        for _ in 0..<Self.iterations {
            let input = mutator.mutate(original)
            guard let elements = try? JSONArraySplitter.split(input) else {
                rejected += 1
                continue
            }
            for element in elements {
                if (try? EmnifyEvent(json: element)) != nil { decoded += 1 } else { rejected += 1 }
            }
        }
        #expect(decoded > 0 && rejected > 0, "the mutations reach both outcomes")
    }

    @Test func timestampsAndPagingHeadersNeverCrash() {
        var mutator = Mutator(seed: 0x7157)
        let samples = [
            "2021-10-27T08:38:02.000Z", "2017-10-26T07:28:00.000+0000", "2021-10-06 10:42:58", "-5",
            "99999999999999999999",
        ]
        for _ in 0..<Self.iterations {
            let text = String(
                decoding: mutator.mutate(Array(samples[mutator.below(samples.count)].utf8)), as: UTF8.self)
            _ = EmnifyTimestamp(parsing: text)
            _ = PagingHeaders(
                response: HTTPResponse(status: 200, headers: ["x-total-count": text, "x-total-pages": text]))
            _ = try? ICCID(parsing: text)
        }
    }
}
