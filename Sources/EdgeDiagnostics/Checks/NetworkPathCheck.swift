import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import ModemIdentity

/// 4. The network path to the API: DNS, TCP connect and TLS handshake with their times (from
/// libcurl's transfer metrics of one request on a fresh connection), certificate verification
/// and the proxy in use.
struct NetworkPathCheck: DiagnosticCheck {
    let id = "network"
    let title = "Network path to the API"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        let api = session.configuration.api
        var details = ["url": api.url, "ca": api.caFile ?? "system trust store"]
        let proxy = ProxyEnvironment(url: api.url, environment: session.inputs.environment)
        if let proxy {
            details["proxy"] =
                proxy.redactedURL + " (from \(proxy.variable))"
                + (proxy.bypassedBy.map { "; not used for this host (\($0))" } ?? "")
        } else {
            details["proxy"] = "none"
        }
        let probe = await session.probe()
        let response: HTTPResponse
        switch probe.outcome {
        case .success(let answer):
            response = answer
        case .failure(let error):
            details["error"] = "\(error)"
            return .fail(Self.finding(error), next: Self.nextStep(error, proxy: proxy), details: details)
        }
        let metrics = response.metrics
        let dns = metrics.nameLookup.wholeMilliseconds
        let tcp = max(0, metrics.connect.wholeMilliseconds - dns)
        let tls = max(0, metrics.tlsHandshake.wholeMilliseconds - metrics.connect.wholeMilliseconds)
        details["dns_ms"] = String(dns)
        details["tcp_connect_ms"] = String(tcp)
        details["tls_handshake_ms"] = String(tls)
        details["total_ms"] = String(metrics.total.wholeMilliseconds)
        details["remote_address"] = metrics.remoteAddress.nilIfEmpty
        details["http_version"] = metrics.httpVersion.nilIfEmpty
        details["http_status"] = String(response.status)
        let tlsText =
            api.url.lowercased().hasPrefix("https:") ? ", TLS \(tls) ms (certificate verified)" : " (plain HTTP)"
        let via = proxy.map { $0.inUse ? " via proxy \($0.redactedURL)" : "" } ?? ""
        let finding = "DNS \(dns) ms, TCP \(tcp) ms\(tlsText)\(via)"
        if metrics.total > .seconds(5) {
            return .warn(
                finding + "; the answer took \(metrics.total.wholeMilliseconds) ms",
                next: "the link is slow: check signal quality and the data session",
                details: details)
        }
        return .pass(finding, details: details)
    }

    static func finding(_ error: TransportError) -> String {
        switch error {
        case .couldNotResolveHost: return "DNS: the API host name cannot be resolved"
        case .couldNotConnect: return "TCP: cannot connect to the API"
        case .timedOut: return "the API did not answer in time"
        case .tlsVerificationFailed: return "TLS: the API's certificate is not trusted"
        case .tlsHandshakeFailed: return "TLS: the handshake with the API failed"
        case .proxyFailed: return "the HTTP proxy failed"
        default: return "the API cannot be reached: \(error)"
        }
    }

    static func nextStep(_ error: TransportError, proxy: ProxyEnvironment?) -> String {
        switch error {
        case .couldNotResolveHost:
            return "check /etc/resolv.conf and that the data session is up ('mmcli -b any', 'ip route')"
        case .couldNotConnect:
            return proxy?.inUse == true
                ? "check the proxy \(proxy!.redactedURL) and firewall rules for TCP 443"
                : "check the data session, the default route and firewall rules for TCP 443"
        case .timedOut:
            return "the link is slow or down: check signal quality and the data session"
        case .tlsVerificationFailed:
            return "check the clock, the system CA store (update-ca-certificates) or [api] ca_file; "
                + "an intercepting proxy needs its CA in ca_file. Verification is never turned off"
        case .tlsHandshakeFailed:
            return "check for an intercepting proxy or firewall, and the clock"
        case .proxyFailed:
            return "check https_proxy / no_proxy in the service's environment"
        default:
            return "\(error)"
        }
    }
}
