import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// 2. The local clock against the API's `Date` header. A wrong clock breaks TLS (certificates
/// "not yet valid") and token expiry; gateways often boot without NTP.
struct ClockCheck: DiagnosticCheck {
    let id = "clock"
    let title = "Clock"

    /// Within this the clock is fine (the header has one-second resolution and the request takes time).
    static let tolerance: Int64 = 10
    /// Beyond this, TLS and JWT expiry start to fail.
    static let failAfter: Int64 = 120

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        let probe = await session.probe()
        let localSeconds = probe.receivedAtMillis / 1000
        var details = ["local_time": UTCDateTime(secondsSinceEpoch: localSeconds).iso8601]
        let ntpHint =
            "enable time synchronisation (timedatectl set-ntp true, or chrony/systemd-timesyncd) "
            + "and check that NTP (UDP 123) is allowed on the data session"
        if localSeconds < 1_704_067_200 {  // 2024-01-01
            return .fail(
                "the local clock says \(details["local_time"]!): it was never set", next: ntpHint, details: details)
        }
        guard case .success(let response) = probe.outcome else {
            return .warn(
                "not compared: the API gave no answer (see the network check)",
                next: "fix the network path; if it fails on TLS, a wrong clock may be the cause", details: details)
        }
        guard let header = response.header("date"), let serverSeconds = HTTPDate.parse(header) else {
            return .warn(
                "not compared: the API's answer had no readable Date header",
                next: "check for a proxy that rewrites headers",
                details: details)
        }
        let skew = localSeconds - serverSeconds
        details["api_time"] = UTCDateTime(secondsSinceEpoch: serverSeconds).iso8601
        details["skew_seconds"] = String(skew)
        let direction = skew > 0 ? "ahead of" : "behind"
        if abs(skew) <= Self.tolerance {
            return .pass("local clock within \(abs(skew)) s of the API's", details: details)
        }
        if abs(skew) <= Self.failAfter {
            return .warn("local clock is \(abs(skew)) s \(direction) the API's", next: ntpHint, details: details)
        }
        return .fail(
            "local clock is \(DurationWords.describe(abs(skew))) \(direction) the API's: TLS certificate checks may fail "
                + "(the agent takes event windows and token expiry from the API's clock)",
            next: ntpHint, details: details)
    }
}

enum DurationWords {
    static func describe(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: return "\(seconds) s"
        case ..<7200: return "\(seconds / 60) min"
        case ..<(2 * 86400): return "\(seconds / 3600) h"
        default: return "\(seconds / 86400) days"
        }
    }
}
