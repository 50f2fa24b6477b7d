@testable import EdgeCommon
import Testing

@Suite struct ICCIDTests {
    @Test(arguments: [
        ("89883070000012345674", "89883070000012345674"), ("\"8988307000001234567F\"", "8988307000001234567"),
        ("8988307000001234567f", "8988307000001234567"), (" 89490200000863940628 ", "89490200000863940628"),
        ("898830700000123456FF", "898830700000123456"), ("8944a00000000000001", "8944A00000000000001"),
    ])
    func normalises(text: String, normalized: String) throws {
        #expect(try ICCID(parsing: text).normalized == normalized)
    }

    @Test func providesBothFormsTheAPINeeds() throws {
        let twenty = try ICCID(parsing: "89883070000012345674")
        #expect(twenty.withoutCheckDigit == "8988307000001234567")
        #expect(twenty.withCheckDigit == "89883070000012345674")
        #expect(twenty.simLookupQuery == "iccid_with_luhn:89883070000012345674")
        let nineteen = try ICCID(parsing: "8988307000001234567")
        #expect(nineteen.withCheckDigit == "89883070000012345672", "the Luhn digit is computed")
        #expect(nineteen.simLookupQuery == "iccid:8988307000001234567")
    }

    @Test func theLuhnDigitIsOnlyAHint() throws {
        let failing = try ICCID(parsing: "89883070000012345674")  // real SIMs exist with a wrong digit
        #expect(!failing.hasValidLuhnCheckDigit)
        #expect(try ICCID(parsing: "89883070000012345672").hasValidLuhnCheckDigit)
    }

    @Test(arguments: ["", "\"\"", "FFFF", "8988-3070-0000-1234-567", "12345678901234567", "898830700000123456789012"])
    func rejects(text: String) {
        #expect(throws: ICCIDError.self) { try ICCID(parsing: text) }
    }
}

@Suite struct BackoffTests {
    @Test func followsTheWrittenDownTable() {
        let backoff = Backoff()
        #expect(backoff.ceiling(attempt: 1) == .seconds(1))
        #expect(backoff.ceiling(attempt: 3) == .seconds(4))
        #expect(backoff.ceiling(attempt: 6) == .seconds(32))
        #expect(backoff.ceiling(attempt: 10) == .seconds(300))
        #expect(backoff.ceiling(attempt: 1000) == .seconds(300), "no overflow for long outages")
    }

    @Test func jitterStaysWithinHalfToFullCeiling() {
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...12 {
            let ceiling = Backoff().ceiling(attempt: attempt)
            for _ in 0..<50 {
                let delay = Backoff().delay(attempt: attempt, using: &generator)
                #expect(delay >= ceiling / 2 && delay <= ceiling)
            }
        }
    }
}

@Suite struct UTCDateTimeTests {
    @Test func roundTripsAcrossLeapYearsAndTheEpoch() {
        for seconds: Int64 in [0, 951_782_400, 1_709_164_800, 4_102_444_799, -86_400] {
            #expect(UTCDateTime(secondsSinceEpoch: seconds).secondsSinceEpoch == seconds)
        }
        #expect(UTCDateTime(secondsSinceEpoch: 1_709_164_800).iso8601 == "2024-02-29T00:00:00Z")
        #expect(
            UTCDateTime(year: 2021, month: 10, day: 24, hour: 12, minute: 43).portalStyle == "October 24, 2021 12:43 PM"
        )
    }
}

@Suite struct AtomicFileTests {
    @Test func writesWithTheExactModeAndReplacesWhole() throws {
        let path = "/tmp/atomic-\(UInt64.random(in: 0...UInt64.max))"
        defer { _ = FileReaderCleanup.remove(path) }
        try AtomicFile.write("first", to: path, mode: 0o600)
        try AtomicFile.write("second", to: path, mode: 0o600)
        #expect(try FileReader.readText(path) == "second")
        #expect(FileReaderCleanup.mode(path) == 0o600)
    }

    @Test func aMissingDirectoryIsAClearError() {
        #expect(throws: FileError.self) { try AtomicFile.write("x", to: "/nonexistent-dir/state.json") }
        do {
            try AtomicFile.write("x", to: "/nonexistent-dir/state.json")
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.description.contains("/nonexistent-dir/state.json.tmp"))
        }
    }
}

import Glibc

enum FileReaderCleanup {
    static func remove(_ path: String) -> Int32 { unlink(path) }
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        stat(path, &info)
        return info.st_mode & 0o777
    }
}
