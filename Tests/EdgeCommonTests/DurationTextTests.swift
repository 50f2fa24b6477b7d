import EdgeCommon
import Testing

private let parseCases: [(String, Duration)] = [
    ("90s", .seconds(90)),
    ("10m", .seconds(600)),
    ("2h", .seconds(7200)),
    ("7d", .seconds(7 * 86_400)),
    ("1h30m", .seconds(5400)),
    ("500ms", .milliseconds(500)),
    ("1d2h3m4s5ms", .seconds(86_400 + 7200 + 180 + 4) + .milliseconds(5)),
    ("250us", .microseconds(250)),
    ("7ns", .nanoseconds(7)),
    ("  30s\n", .seconds(30)),
    ("0s", .zero),
]

private let formatCases: [(Duration, String)] = [
    (.seconds(90), "90s"),
    (.seconds(60), "1m"),
    (.seconds(600), "10m"),
    (.seconds(5400), "90m"),
    (.seconds(7200), "2h"),
    (.seconds(86_400), "1d"),
    (.seconds(86_401), "1d1s"),
    (.seconds(25 * 3600 + 1), "1d1h1s"),
    (.milliseconds(500), "500ms"),
    (.milliseconds(1500), "1500ms"),
    (.seconds(3661), "3661s"),
    (.seconds(86_400 + 3661), "90061s"),
    (.seconds(2 * 86_400 + 1), "2d1s"),
    (.seconds(7 * 86_400), "7d"),
    (.zero, "0s"),
    (.seconds(-30), "-30s"),
]

@Suite struct DurationTextTests {
    @Test(arguments: parseCases)
    func parsesHumanDurations(text: String, expected: Duration) throws {
        #expect(try DurationText.parse(text) == expected)
    }

    @Test(arguments: [
        "", "  ", "90", "1.5h", "-5s", "5 s", "10x", "s", "30m1h", "1h1h", "1h 30m", "99999999999999999999d", "300000d",
    ])
    func rejectsBadText(text: String) {
        #expect(throws: DurationTextError.self) { try DurationText.parse(text) }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: DurationTextError.invalid("90", reason: "'90' has no unit; write e.g. \"90s\"")) {
            try DurationText.parse("90")
        }
        #expect(throws: DurationTextError.negative("-5s")) { try DurationText.parse("-5s") }
        #expect(throws: DurationTextError.empty) { try DurationText.parse("") }
        #expect(throws: DurationTextError.tooLarge("300000d")) { try DurationText.parse("300000d") }
        let message = DurationTextError.invalid("10x", reason: "unknown unit 'x'; use d, h, m, s, ms, us or ns")
            .description
        #expect(message.contains("10x"))
    }

    @Test(arguments: formatCases)
    func formatsShortest(duration: Duration, expected: String) {
        #expect(DurationText.format(duration) == expected)
    }

    @Test func formatRoundTrips() throws {
        for seconds in [1, 59, 61, 3599, 3601, 86_399, 90_061, 2_592_000, 31_536_000] {
            for millis in [0, 1, 999] {
                let duration = Duration.seconds(seconds) + .milliseconds(millis)
                #expect(try DurationText.parse(DurationText.format(duration)) == duration)
            }
        }
    }
}
