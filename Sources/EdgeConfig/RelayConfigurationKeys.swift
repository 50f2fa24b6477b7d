/// The `[relay]` section of `relay.toml`: the fleet relay's webhook for emnify's Data Streamer,
/// its org-wide polling and its state. Part of `ConfigurationKey.table`.
extension ConfigurationKey {
    static let relaySection: [ConfigurationKey] = [
        .address(
            "relay", "listen", \.relay.listen, examplePort: 8088,
            "Where the webhook listens, e.g. \"0.0.0.0:8088\" behind a load balancer; IPv6 in brackets (\"[::1]:8088\")."
        ),
        .optionalString(
            "relay", "tls_certificate", \.relay.tlsCertificate, type: "path",
            unset: "plain HTTP (TLS ends at a load balancer)", check: Validators.absolutePath,
            "PEM certificate chain for HTTPS on listen; needs tls_key. The Data Streamer needs a public https:// URL "
                + "with a certificate from a public CA."
        ),
        .optionalString(
            "relay", "tls_key", \.relay.tlsKey, type: "path", unset: "plain HTTP (TLS ends at a load balancer)",
            check: Validators.absolutePath, "PEM private key of tls_certificate (mode 0600)."
        ),
        .string(
            "relay", "webhook_path", \.relay.webhookPath, type: "URL path", check: Validators.webhookPath,
            "The path the Data Streamer posts to (its URL is https://<public host><webhook_path>)."
        ),
        .string(
            "relay", "webhook_token_file", \.relay.webhookTokenFile, type: "path", check: Validators.absolutePath,
            "File holding the secret the Data Streamer sends as \"Authorization: Bearer <secret>\" (mode 0600; at "
                + "least 16 characters, e.g. openssl rand -hex 32). EMNIFY_WEBHOOK_TOKEN and the systemd credential "
                + "webhook-token take precedence."
        ),
        .durationOrOff(
            "relay", "poll_interval", \.relay.pollInterval, offMeaning: "no polling, the webhook alone",
            check: {
                $0 < .seconds(1) ? "poll at most once a second; GET /api/v1/event allows 10 requests a second" : nil
            },
            "Time between two polls of the organisation's events (GET /api/v1/event), which catch what the webhook "
                + "missed; one relay of the fleet polls at a time."
        ),
        .duration(
            "relay", "backfill", \.relay.backfill, max: .seconds(30 * 86_400),
            "History polled and published on first start. emnify keeps events for 30 days."
        ),
        .duration(
            "relay", "look_back", \.relay.lookBack, max: .seconds(30 * 86_400),
            "How late an event may appear in the API and still be published by a poll."
        ),
        .string(
            "relay", "state_dir", \.relay.stateDir, type: "path", check: Validators.absolutePath,
            "Directory for the poll cursor and the cached API token."
        ),
        .integer(
            "relay", "max_body_size", \.relay.maxBodySize, range: 65_536...1_073_741_824,
            type: "integer, bytes (64 KiB–1 GiB)",
            "A larger webhook request is refused (413). A Data Streamer bulk request holds up to 10,000 events."
        ),
        .duration(
            "relay", "ack_timeout", \.relay.ackTimeout, max: .seconds(600),
            "How long a webhook request waits for the cluster's PUBACKs of its events before it is answered 503 "
                + "(the Data Streamer then sends it again)."
        ),
        .optionalString(
            "relay", "relay_id", \.relay.relayID, type: "name", unset: "the host name", check: Validators.relayID,
            "This relay's name among the fleet's relays, which decides the one that polls; unique per relay."
        ),
    ]
}

extension Validators {
    /// An absolute URL path without query, fragment or blanks.
    static func webhookPath(_ path: String) -> Message? {
        guard path.hasPrefix("/") else { return "\"\(path)\" must start with /, e.g. \"/emnify/events\"" }
        if path.contains(where: { $0 == "?" || $0 == "#" }) {
            return "\"\(path)\" contains ? or #; give only the path (the secret goes in webhook_token_file)"
        }
        if path.contains(where: {
            !$0.isASCII || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true
        }) {
            return "\"\(path)\" may hold only printable ASCII without blanks"
        }
        if path.contains("//") || path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            return "\"\(path)\" has an empty, . or .. segment; write it as the Data Streamer's URL will have it"
        }
        return nil
    }

    /// Letters, digits, `-`, `_` and `.` (host names qualify), at most 64.
    static func relayID(_ id: String) -> Message? {
        guard !id.isEmpty, id.count <= 64,
            id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
        else {
            return "\"\(id)\" is not a relay name: up to 64 letters, digits, '-', '_' or '.', e.g. \"relay-a\""
        }
        return nil
    }
}
