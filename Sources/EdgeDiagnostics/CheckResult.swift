import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// PASS / WARN / FAIL, ordered by badness.
public enum CheckStatus: String, Sendable, Codable, Comparable, CaseIterable {
    case pass, warn, fail

    var rank: Int {
        switch self {
        case .pass: return 0
        case .warn: return 1
        case .fail: return 2
        }
    }

    public static func < (lhs: CheckStatus, rhs: CheckStatus) -> Bool { lhs.rank < rhs.rank }
}

/// The result of one check: a one-line finding and, when not PASS, what to do next.
/// `details` carries the measured facts (timings, ids, states) as text, for people and scripts.
public struct CheckResult: Sendable, Equatable, Codable {
    public var id: String
    public var title: String
    public var status: CheckStatus
    public var finding: String
    public var nextStep: String?
    public var details: [String: String]
    public var durationMs: Int

    public init(
        id: String, title: String, status: CheckStatus, finding: String, nextStep: String? = nil,
        details: [String: String] = [:], durationMs: Int = 0
    ) {
        self.id = id
        self.title = title
        self.status = status
        self.finding = finding
        self.nextStep = nextStep
        self.details = details
        self.durationMs = durationMs
    }

    enum CodingKeys: String, CodingKey {
        case id, title, status, finding, details
        case nextStep = "next_step"
        case durationMs = "duration_ms"
    }

    /// `next_step` is always present (null on PASS), so scripts can rely on the key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(title, forKey: .title)
        try c.encode(status, forKey: .status)
        try c.encode(finding, forKey: .finding)
        try c.encode(nextStep, forKey: .nextStep)
        try c.encode(details, forKey: .details)
        try c.encode(durationMs, forKey: .durationMs)
    }
}

/// What a check found, before the runner adds its id, title and duration.
public struct CheckOutcome: Sendable {
    public var status: CheckStatus
    public var finding: String
    public var nextStep: String?
    public var details: [String: String]

    public init(_ status: CheckStatus, _ finding: String, next nextStep: String? = nil, details: [String: String] = [:])
    {
        self.status = status
        self.finding = finding
        self.nextStep = nextStep
        self.details = details
    }

    static func pass(_ finding: String, details: [String: String] = [:]) -> CheckOutcome {
        CheckOutcome(.pass, finding, details: details)
    }

    static func warn(_ finding: String, next: String, details: [String: String] = [:]) -> CheckOutcome {
        CheckOutcome(.warn, finding, next: next, details: details)
    }

    static func fail(_ finding: String, next: String, details: [String: String] = [:]) -> CheckOutcome {
        CheckOutcome(.fail, finding, next: next, details: details)
    }

    /// A check that could not run because an earlier link of the chain is broken.
    static func blocked(by check: String, _ why: String) -> CheckOutcome {
        CheckOutcome(.fail, "not checked: \(why)", next: "fix the '\(check)' check first", details: ["skipped": "true"])
    }
}
