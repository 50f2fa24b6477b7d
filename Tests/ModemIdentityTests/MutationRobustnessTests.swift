import Foundation
@testable import ModemIdentity
import Testing
import TestSupport

/// The modem parsers fed mutated real captures: a value or a typed error, never a crash.
@Suite struct ModemMutationRobustnessTests {
    static let iterations = 1500

    static func fixtures(_ prefix: String) throws -> [[UInt8]] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(prefix) }
            .sorted()
            .map { Array(try Data(contentsOf: directory.appendingPathComponent($0))) }
    }

    @Test func mmcliJSONNeverCrashes() throws {
        let inputs = try Self.fixtures("mmcli-")
        var mutator = Mutator(seed: 0x3C11)
        for _ in 0..<Self.iterations {
            let input = mutator.mutate(inputs[mutator.below(inputs.count)])
            _ = try? MMCLIJSON.modemList(input)
            _ = try? MMCLIJSON.modem(input)
            _ = try? MMCLIJSON.sim(input)
            let text = String(decoding: input, as: UTF8.self)
            _ = try? MMCLIText.modem(text)
            _ = try? MMCLIText.simFromKeyValues(text)
        }
    }

    @Test func atTranscriptsNeverCrash() throws {
        let inputs = try Self.fixtures("at_") + Self.fixtures("qmicli_") + Self.fixtures("mbimcli_")
        var mutator = Mutator(seed: 0xA7)
        for _ in 0..<Self.iterations {
            let text = String(decoding: mutator.mutate(inputs[mutator.below(inputs.count)]), as: UTF8.self)
            _ = ATFacts.from(transcript: text)
            let lines = text.split(whereSeparator: \.isNewline).map(String.init)
            _ = try? ATAnswers.iccid(lines)
            _ = try? ATAnswers.cops(lines)
            _ = try? ATAnswers.registration(lines)
            _ = try? ATAnswers.csq(lines)
            _ = try? QMICLI.deviceIDs(text)
            _ = try? MBIMCLI.subscriberReadyStatus(text)
        }
    }
}
