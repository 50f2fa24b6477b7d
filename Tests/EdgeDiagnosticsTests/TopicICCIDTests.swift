import EdgeAgent
import Foundation
import TestSupport
import Testing

@testable import EdgeDiagnostics

/// Without a modem report, diagnose finds the agent's topics from the ICCID in the agent's state,
/// which keeps it as read (20 digits, with the check digit); the topics name the SIM without it.
@Suite struct TopicICCIDTests {
    @Test func theSavedICCIDIsNamedAsTheAgentNamesItsTopics() throws {
        let directory = try TemporaryDirectory(prefix: "emnify-topic-iccid")
        let stateDirectory = directory.file("state")
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        var state = AgentState()
        state.iccid = "89883070000012345674"
        try AgentStateStore(directory: stateDirectory).save(state)
        let config = try directory.write(
            """
            [agent]
            state_dir = "\(stateDirectory)"
            """, to: "emnify-edge.toml")
        let session = DiagnosticSession(
            inputs: DiagnosticInputs(configPath: config, environment: [:], version: "test"))
        #expect(session.topics?.base == "emnify/8988307000001234567")
    }
}
