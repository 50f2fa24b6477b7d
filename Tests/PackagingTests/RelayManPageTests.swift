import EdgeConfig
import Foundation
import Testing

/// `packaging/man/emnify-edge-relay.toml.5`: the fleet relay's file and command, rendered from the
/// relay's share of the key table like emnify-edge.toml(5). Regenerate with
///   UPDATE_GOLDEN=1 swift test --filter RelayManPageTests
@Suite struct RelayManPageTests {
    static let path = "packaging/man/emnify-edge-relay.toml.5"

    @Test func committedPageIsCurrent() throws {
        let rendered = RelayManPage.render()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: RepositoryFiles.url(Self.path), atomically: true, encoding: .utf8)
        }
        let committed = try RepositoryFiles.text(Self.path)
        #expect(committed == rendered, "run UPDATE_GOLDEN=1 swift test --filter RelayManPageTests")
    }

    @Test func namesEveryKeyAndSection() {
        let page = RelayManPage.render()
        for key in ConfigurationKey.keys(for: .relay) {
            #expect(page.contains(".B \(ConfigurationManPage.escape(key.name))\n"), "\(key.path)")
        }
        for section in ConfigurationRole.relay.sections { #expect(page.contains(".SH \"[\(section)]\"\n")) }
        #expect(!page.contains("[modem]\"") && !page.contains("[agent]\""))
        #expect(page.contains(".SH COMMAND\n"))
    }

    @Test func groffHasNoWarnings() throws {
        try #require(Tool.exists("/usr/bin/groff"), "groff is missing: apt-get install groff-base")
        let directory = try RepositoryFiles.temporaryDirectory("man")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("emnify-edge-relay.toml.5")
        try RelayManPage.render().write(to: page, atomically: true, encoding: .utf8)
        let result = try Tool.run("/usr/bin/groff", ["-man", "-ww", "-z", "-Tutf8", page.path])
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output)")
    }
}

/// The roff source of emnify-edge-relay.toml(5).
enum RelayManPage {
    static func render() -> String {
        let role = ConfigurationRole.relay
        var page = """
            .TH EMNIFY\\-EDGE\\-RELAY.TOML 5 "" "emnify-edge" "File Formats Manual"
            .SH NAME
            emnify\\-edge\\-relay.toml \\- configuration file of the emnify\\-edge fleet relay
            .SH SYNOPSIS
            .I /etc/emnify\\-edge/relay.toml
            .SH DESCRIPTION
            .B emnify\\-edge relay
            reads its configuration from a TOML file,
            .I /etc/emnify\\-edge/relay.toml
            unless
            .B \\-\\-config
            names another. The file has the sections
            \(role.sections.map { "[\($0)]" }.joined(separator: ", ")).
            [api] and [mqtt] are those of
            .BR emnify\\-edge.toml (5),
            plus
            .B hosts
            in [mqtt]; [modem] and [agent] are the agent's and refused here.
            Every key is optional; an empty file is a valid configuration. Unknown sections and
            keys are errors, so typing mistakes show up. Check a changed file with
            .B emnify\\-edge config check \\-\\-relay
            (implied for a file named relay.toml) and restart the service with
            .BR "systemctl restart emnify\\-edge\\-relay"
            (nothing is lost: the Data Streamer sends again what was not acknowledged, and polling
            continues from its cursor).
            .PP
            Durations are strings such as "500ms", "30s", "10m", "2h", "7d" or combinations
            ("1h30m"); a plain integer means seconds. Paths are absolute.
            The shipped file lists every key, commented out, with its default.
            .SH COMMAND
            .B emnify\\-edge relay
            .RB [ \\-\\-config
            .IR FILE ]
            runs the fleet relay. It takes the organisation's emnify events once: emnify's Data
            Streamer posts them to its webhook
            .RB ( listen ,
            .BR webhook_path ),
            and it polls GET /api/v1/event every
            .BR poll_interval ,
            one relay of the fleet at a time, for what the webhook missed. It publishes each event
            per SIM onto the MQTT cluster named by
            .B hosts
            (MQTT 3.1.1 is enough; NATS speaks nothing else) with the agent's topics, and answers a
            webhook request only when the cluster acknowledged all of its events, else 503 after
            .BR ack_timeout ,
            so that the Data Streamer sends it again. SIGHUP is ignored (a changed file takes a restart).
            The packaged unit
            .B emnify\\-edge\\-relay.service
            is installed but not enabled: gateways run
            .B emnify\\-edge.service
            instead. On a relay host:
            .BR "systemctl enable \\-\\-now emnify\\-edge\\-relay" .

            """
        for section in role.sections {
            page += ".SH \"[\(section)]\"\n"
            for key in ConfigurationKey.keys(for: role) where key.section == section {
                page += ".TP\n.B \(ConfigurationManPage.escape(key.name))\n"
                let defaultText =
                    key.render(EdgeConfiguration()).map { "default: \($0)" }
                    ?? "unset: \(key.unsetMeaning(for: role) ?? "none")"
                page += "(\(ConfigurationManPage.escape(key.type)); \(ConfigurationManPage.escape(defaultText))).\n"
                page += ConfigurationManPage.escape(key.summary(for: role)) + "\n"
            }
        }
        page += """
            .SH TOKENS
            The emnify application token is looked up as the agent looks it up: the environment
            variable
            .BR EMNIFY_APPLICATION_TOKEN ,
            the systemd credential
            .BR application\\-token ,
            then
            .BR token_file .
            The webhook token, the secret the Data Streamer sends as
            .BR "Authorization: Bearer" ,
            in the same way: the environment variable
            .BR EMNIFY_WEBHOOK_TOKEN ,
            the systemd credential
            .B webhook\\-token
            (the packaged unit loads both with
            .B LoadCredential=
            from
            .I /etc/emnify\\-edge/application\\-token
            and
            .IR /etc/emnify\\-edge/webhook\\-token ,
            which can then stay owned by root with mode 0600), then
            .BR webhook_token_file .
            It must have at least 16 characters of a bearer token (letters, digits, \\-, ., _, ~, +, /
            and = at the end); create one with
            .BR "openssl rand \\-hex 32" .
            .SH FILES
            .TP
            .I /etc/emnify\\-edge/relay.toml
            This file.
            .TP
            .I /etc/emnify\\-edge/webhook\\-token
            The webhook token (not shipped; mode 0600).
            .TP
            .I /var/lib/emnify\\-edge\\-relay/
            State: the poll cursor and the cached API token.
            .SH SEE ALSO
            .BR emnify\\-edge (1),
            .BR emnify\\-edge\\-relay (1),
            .BR emnify\\-edge\\-config\\-check (1),
            .BR emnify\\-edge.toml (5),
            .BR systemd.exec (5)

            """
        return ConfigurationManPage.asciiOnly(page)
    }
}
