import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import FoundationEssentials
import ModemIdentity

/// The whole diagnosis: every check, the overall status and the exit code.
///
/// The `--json` document (schema version 1), keys always present unless marked optional:
///
/// ```text
/// {
///   "schema": 1,                          integer
///   "tool": "emnify-edge 0.1.0",          string
///   "generated_at": "2024-05-01T10:00:00Z", string (UTC, ISO 8601)
///   "config_file": "/etc/emnify-edge/emnify-edge.toml", string
///   "mode": "poll" | "bridge",            string ([agent] events: where the agent takes its events from)
///   "overall": "pass" | "warn" | "fail",  string
///   "exit_code": 0 | 1 | 2,               integer (0 all pass, 1 any fail, 2 warnings only)
///   "summary": {"pass": n, "warn": n, "fail": n},   integers
///   "checks": [                           array, in chain order; ids: configuration, clock, modem,
///     {                                   network, account, connectivity, events, broker, (in bridge
///       "id": "clock",                    mode: bridge, relays, event-lag,) agent, and reset-loop with
///                                         --reset-connectivity
///       "title": "Clock",                 string
///       "status": "pass" | "warn" | "fail",
///       "finding": "…",                   string, one line
///       "next_step": "…" | null,          string when not pass, else null
///       "details": {"skew_seconds": "0"}, object of string → string (facts, timings in *_ms)
///       "duration_ms": 12                 integer
///     }
///   ]
/// }
/// ```
public struct DiagnosticReport: Sendable, Codable, Equatable {
    public static let schemaVersion = 1

    public var schema = DiagnosticReport.schemaVersion
    public var tool: String
    public var generatedAt: String
    public var configFile: String
    /// `[agent] events`: `poll` or `bridge`.
    public var mode: String
    public var checks: [CheckResult]

    public init(tool: String, generatedAt: String, configFile: String, mode: String = "poll", checks: [CheckResult]) {
        self.tool = tool
        self.generatedAt = generatedAt
        self.configFile = configFile
        self.mode = mode
        self.checks = checks
    }

    public var overall: CheckStatus { checks.map(\.status).max() ?? .pass }

    /// 0 all pass, 1 any fail, 2 warnings only.
    public var exitCode: Int32 {
        switch overall {
        case .pass: return 0
        case .fail: return 1
        case .warn: return 2
        }
    }

    public func count(_ status: CheckStatus) -> Int { checks.filter { $0.status == status }.count }

    enum CodingKeys: String, CodingKey {
        case schema, tool, checks, overall, summary, mode
        case generatedAt = "generated_at"
        case configFile = "config_file"
        case exitCode = "exit_code"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(Int.self, forKey: .schema)
        tool = try c.decode(String.self, forKey: .tool)
        generatedAt = try c.decode(String.self, forKey: .generatedAt)
        configFile = try c.decode(String.self, forKey: .configFile)
        // Reports written before bridge mode existed were all of polling agents.
        mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? "poll"
        checks = try c.decode([CheckResult].self, forKey: .checks)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(tool, forKey: .tool)
        try c.encode(generatedAt, forKey: .generatedAt)
        try c.encode(configFile, forKey: .configFile)
        try c.encode(mode, forKey: .mode)
        try c.encode(overall, forKey: .overall)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(
            ["pass": count(.pass), "warn": count(.warn), "fail": count(.fail)], forKey: .summary)
        try c.encode(checks, forKey: .checks)
    }

    /// The `--json` document, keys sorted, with a final newline.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The human report. `colour` adds ANSI colours to the status words (only on a terminal,
    /// never with `NO_COLOR`: the caller decides).
    public func text(colour: Bool) -> String {
        func paint(_ status: CheckStatus) -> String {
            let word = status.rawValue.uppercased()
            guard colour else { return word }
            let code = status == .pass ? "32" : status == .warn ? "33" : "31"
            return "\u{1B}[1;\(code)m\(word)\u{1B}[0m"
        }
        let width = max(12, checks.map(\.title.count).max() ?? 12)
        var out = "\(tool) diagnose, \(generatedAt), \(configFile)\n"
        out += "mode: \(mode) (\(Self.modeWords[mode] ?? "[agent] events"))\n\n"
        for check in checks {
            let padded = check.title + String(repeating: " ", count: width - check.title.count)
            out += "\(paint(check.status))  \(padded)  \(check.finding)\n"
            let indent = String(repeating: " ", count: 6 + width + 2)
            if let next = check.nextStep {
                out += "\(indent)→ \(next)\n"
            }
            for key in check.details.keys.sorted() where key != "table" && key != "skipped" {
                out += "\(indent)\(key): \(check.details[key]!)\n"
            }
            if let table = check.details["table"] {
                out += "\n" + table + (table.hasSuffix("\n") ? "" : "\n") + "\n"
            }
        }
        out +=
            "\n\(count(.pass)) passed, \(count(.warn)) warning(s), \(count(.fail)) failed: \(overall.rawValue.uppercased())\n"
        return out
    }
}

extension DiagnosticReport {
    static let modeWords = [
        "poll": "the agent polls the emnify API",
        "bridge": "events come from the fleet cluster through the local broker's bridge, the API only closes gaps",
    ]

    /// Runs every check and assembles the report.
    public static func make(_ session: DiagnosticSession, extra: [CheckResult] = []) async -> DiagnosticReport {
        let checks = await DiagnosticChecks.run(session)
        return DiagnosticReport(
            tool: "emnify-edge \(session.inputs.version)",
            generatedAt: UTCDateTime(secondsSinceEpoch: session.clock.nowSeconds()).iso8601,
            configFile: session.inputs.configPath, mode: session.eventSource.rawValue, checks: checks + extra)
    }
}
