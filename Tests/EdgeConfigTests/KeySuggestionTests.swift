@testable import EdgeConfig
import Testing

@Suite struct KeySuggestionTests {
    @Test func closestKey() {
        let names = ["poll_interval", "backfill", "look_back", "state_dir"]
        #expect(KeySuggestion.closest(to: "poll_intervall", among: names) == "poll_interval")
        #expect(KeySuggestion.closest(to: "pollInterval", among: names) == "poll_interval")
        #expect(KeySuggestion.closest(to: "poll-interval", among: names) == "poll_interval")
        #expect(KeySuggestion.closest(to: "lookback", among: names) == "look_back")
        #expect(KeySuggestion.closest(to: "bakcfill", among: names) == "backfill")
        #expect(KeySuggestion.closest(to: "zzz", among: names) == nil)
    }

    @Test func editDistance() {
        #expect(KeySuggestion.editDistance("", "abc") == 3)
        #expect(KeySuggestion.editDistance("kitten", "sitting") == 3)
        #expect(KeySuggestion.editDistance("ab", "ba") == 1)
    }
}
