import EdgeCommon
import Testing

@testable import EdgeMQTT

@Suite("Topic segments and protocol fallback (no broker)")
struct TopicSegmentTests {
    @Test func wildcardsSlashesAndNULNeverReachATopic() {
        #expect(TopicSegment.sanitize("update-location") == "update-location")
        #expect(TopicSegment.sanitize("a/b") == "a_b")
        #expect(TopicSegment.sanitize("+") == "_")
        #expect(TopicSegment.sanitize("#") == "_")
        #expect(TopicSegment.sanitize("x\u{0}y") == "x_y")
        #expect(TopicSegment.sanitize("line\nbreak\u{7F}") == "line_break_")
        #expect(TopicSegment.sanitize("") == "_")
        #expect(TopicSegment.sanitize("Créé ✓") == "Créé ✓")
        #expect(TopicSegment.sanitize(String(repeating: "a", count: 1000)).count == TopicSegment.maximumLength)
        for text in ["a/+/#", "/", "//", "\u{0}", "#/+"] {
            let segment = TopicSegment.sanitize(text)
            #expect(!segment.isEmpty)
            #expect(!segment.contains(where: { "+#/\u{0}".contains($0) }))
        }
    }

    @Test func fallbackOnlyFromFiveToThreeOneOneOnAProtocolRefusalWithAuto() {
        // MQTT 5 reason 132 (unsupported protocol version), or 3.1.1 return code 1 from an old broker.
        #expect(MQTTProtocolChoice.auto.fallbackVersion(afterRefusalOf: 5, code: 132) == 4)
        #expect(MQTTProtocolChoice.auto.fallbackVersion(afterRefusalOf: 5, code: 1) == 4)
        // Other refusals stand: bad credentials, not authorized.
        #expect(MQTTProtocolChoice.auto.fallbackVersion(afterRefusalOf: 5, code: 134) == nil)
        #expect(MQTTProtocolChoice.auto.fallbackVersion(afterRefusalOf: 5, code: 135) == nil)
        // Already on 3.1.1, or the user asked for a version: no fallback.
        #expect(MQTTProtocolChoice.auto.fallbackVersion(afterRefusalOf: 4, code: 1) == nil)
        #expect(MQTTProtocolChoice.v5.fallbackVersion(afterRefusalOf: 5, code: 132) == nil)
        #expect(MQTTProtocolChoice.v311.fallbackVersion(afterRefusalOf: 4, code: 1) == nil)
        #expect(MQTTProtocolChoice.auto.firstVersion == 5)
        #expect(MQTTProtocolChoice.v311.firstVersion == 4)
    }

    @Test func refusalCodesAreNamed() {
        #expect(MQTTConnectRefusal(code: 4, protocolVersion: 4) == .badCredentials)
        #expect(MQTTConnectRefusal(code: 134, protocolVersion: 5) == .badCredentials)
        #expect(MQTTConnectRefusal(code: 5, protocolVersion: 4) == .notAuthorized)
        #expect(MQTTConnectRefusal(code: 135, protocolVersion: 5) == .notAuthorized)
        #expect(MQTTConnectRefusal(code: 132, protocolVersion: 5) == .unsupportedProtocolVersion)
    }

    @Test func invalidSettingsAreRefusedWithTheKeyToFix() throws {
        var settings = MQTTSettings(clientID: "x", keepalive: .zero)
        #expect(throws: MQTTError.self) { try settings.validated() }
        settings.keepalive = .seconds(30)
        settings.password = "secret-value"
        do {
            try settings.validated()
            Issue.record("password without username accepted")
        } catch {
            #expect(!error.description.contains("secret-value"))
        }
    }
}
