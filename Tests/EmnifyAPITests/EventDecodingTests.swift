import EdgeCommon
import EmnifyAPI
import Foundation
import Testing

@Suite("Event model over emnify's documented examples")
struct EventDecodingTests {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/emnify-doc-events")

    static func fixtureNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixtureDirectory.path).filter { $0.hasSuffix(".json") }
            .sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtureDirectory.appendingPathComponent(name)))
    }

    @Test func allFortyNineExamplesArePresent() throws {
        #expect(try Self.fixtureNames().count == 49)
    }

    @Test(arguments: try fixtureNames())
    func decodesEveryDocumentedExample(name: String) throws {
        let raw = try Self.bytes(name)
        let event = try EmnifyEvent(json: raw)
        // The type id is the file name's prefix: 03-create-pdp-context-1.json is type 3.
        let typeID = Int(name.prefix(2))!
        #expect(event.type.id == typeID)
        #expect(event.raw == raw, "the original JSON is kept byte for byte")
        // The id must survive exactly: compare with the digits in the file.
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.contains("\"id\": \(event.id)"))
        #expect(event.timestamp.millisecondsSinceEpoch > 1_500_000_000_000)
        #expect(!event.typeSlug.isEmpty && !event.typeSlug.contains("/") && !event.typeSlug.contains("+"))
    }

    @Test func largeIdsStayExact() throws {
        let event = try EmnifyEvent(json: Self.bytes("00-generic-2.json"))
        #expect(event.id == 843_273_935_666_500)  // above 2^48
        let huge = try EmnifyEvent(
            json: Array(
                #"{"id": 9007199254740993, "timestamp": "2021-10-27T12:38:44.000Z", "event_type": {"id": 1}}"#.utf8))
        #expect(huge.id == 9_007_199_254_740_993, "2^53 + 1 is not representable as a Double")
    }

    @Test func pdpContextCarriesNetworkGeneration() throws {
        let event = try EmnifyEvent(json: Self.bytes("05-delete-pdp-context-1.json"))
        #expect(event.ratType == 2)
        #expect(event.typeDisplayName == "Delete PDP Context (2G)")
        #expect(event.countryName == "Germany")
        #expect(event.endpointName == "Test Sim 2")
        #expect(event.imsi == "49652622520507")
    }

    @Test func networkEventsCarryOperator() throws {
        let event = try EmnifyEvent(json: Self.bytes("02-update-gprs-location-1.json"))
        #expect(event.operatorName == "Vodafone")
        #expect(event.countryName == "Germany")
        #expect(event.typeSlug == "update-gprs-location")
    }

    @Test func toleratesTheInconsistentOldShapes() throws {
        // alert as 1, event_source.name, timestamp without a zone, nulls everywhere.
        let event = try EmnifyEvent(json: Self.bytes("12-organisation-blocked-1.json"))
        #expect(event.alert == true)
        #expect(event.source?.description == "Policy Control")
        #expect(event.timestamp.utc == .init(year: 2021, month: 10, day: 6, hour: 10, minute: 42, second: 58))
        #expect(event.endpointID == nil && event.simID == nil)
    }

    @Test func missingIdIsATypedError() {
        #expect(throws: APIDecodingError.self) {
            try EmnifyEvent(json: Array(#"{"timestamp": "2021-10-27T12:38:44.000Z", "event_type": {"id": 1}}"#.utf8))
        }
        #expect(throws: APIDecodingError.self) {
            try EmnifyEvent(
                json: Array(
                    #"{"id": 123456789012345678901234, "timestamp": "2021-10-27T12:38:44.000Z", "event_type": {"id": 1}}"#
                        .utf8))
        }
        #expect(throws: APIDecodingError.self) {
            try EmnifyEvent(
                json: Array(#"{"id": 1.5, "timestamp": "2021-10-27T12:38:44.000Z", "event_type": {"id": 1}}"#.utf8))
        }
    }
}

@Suite("Timestamps in every style emnify writes")
struct TimestampTests {
    @Test(arguments: [
        ("2021-10-27T08:38:02.000Z", Int64(1_635_323_882_000)),
        ("2017-10-26T07:28:00.000+0000", Int64(1_509_002_880_000)),
        ("2017-10-26T09:28:00.000+02:00", Int64(1_509_002_880_000)),
        ("2021-10-27T15:17:23Z", Int64(1_635_347_843_000)),
        ("2021-10-06 10:42:58", Int64(1_633_516_978_000)),
        ("2021-10-24T12:44:09.901Z", Int64(1_635_079_449_901)),
        ("2021-10-24T12:44:09.9Z", Int64(1_635_079_449_900)),
        ("2021-10-24T12:44:09.123456Z", Int64(1_635_079_449_123)),
    ])
    func parses(text: String, millis: Int64) {
        #expect(EmnifyTimestamp(parsing: text)?.millisecondsSinceEpoch == millis)
    }

    @Test(arguments: [
        "", "2021-13-01T00:00:00Z", "2021-02-30T00:00:00Z", "2021-10-27", "2021-10-27T25:00:00Z",
        "2021-10-27T08:38:02.Z", "2021-10-27T08:38:02Zjunk", "yesterday",
    ])
    func rejects(text: String) {
        #expect(EmnifyTimestamp(parsing: text) == nil)
    }

    @Test func formatsBack() {
        #expect(EmnifyTimestamp(millisecondsSinceEpoch: 1_635_323_882_005).text == "2021-10-27T08:38:02.005Z")
    }
}
