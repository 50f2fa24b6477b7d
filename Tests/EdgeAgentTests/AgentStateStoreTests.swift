import AgentTestSupport
@testable import EdgeAgent
import EdgeCommon
import Foundation
import Testing

/// What `load` says about the crash states that Tests/CrashConsistency builds from real traces.
@Suite struct AgentStateStoreTests {
    let directory = temporaryDirectory()

    @Test func onlyThePreviousCopyLeftSaysTheSaveWasInterrupted() throws {
        let store = AgentStateStore(directory: directory)
        var state = AgentState()
        state.simID = 500
        try store.save(state)
        // A power cut after `save` renamed state.json to state.json.prev, before the new file.
        #expect(rename(store.path, store.previousPath) == 0)
        let (loaded, outcome) = store.load()
        #expect(loaded.simID == 500)
        #expect(outcome == .recoveredFromPrevious(problem: "\(store.path) is missing (a save was interrupted)"))
    }

    @Test func aDamagedFileIsNamedAsDamaged() throws {
        let store = AgentStateStore(directory: directory)
        try store.save(AgentState())
        try store.save(AgentState())
        try AtomicFile.write(Array("{\"vers".utf8), to: store.path)
        guard case .recoveredFromPrevious(let problem) = store.load().1 else {
            Issue.record("expected the previous copy")
            return
        }
        #expect(problem.contains("is damaged"))
    }
}
