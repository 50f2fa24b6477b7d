import EdgeConfig
import Foundation
import Testing

/// `packaging/man/emnify-edge.toml.5`, rendered from the key table (`ConfigurationKey.all`)
/// so that it says what the loader accepts. The page is committed (the Debian build needs no
/// Swift test run); this test fails when it is out of date. Regenerate with
///   UPDATE_GOLDEN=1 swift test --filter ConfigurationManPageTests
@Suite struct ConfigurationManPageTests {
    static let path = "packaging/man/emnify-edge.toml.5"

    @Test func committedPageIsCurrent() throws {
        let rendered = ConfigurationManPage.render()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(
                at: RepositoryFiles.url(Self.path).deletingLastPathComponent(), withIntermediateDirectories: true)
            try rendered.write(to: RepositoryFiles.url(Self.path), atomically: true, encoding: .utf8)
        }
        let committed = try RepositoryFiles.text(Self.path)
        #expect(committed == rendered, "run UPDATE_GOLDEN=1 swift test --filter ConfigurationManPageTests")
    }

    @Test func namesEveryKey() {
        let page = ConfigurationManPage.render()
        for key in ConfigurationKey.all {
            #expect(page.contains(".B \(ConfigurationManPage.escape(key.name))\n"), "\(key.path)")
        }
    }

    /// groff accepts the page without a warning (as lintian's check does), where groff is installed.
    @Test func groffHasNoWarnings() throws {
        try #require(Tool.exists("/usr/bin/groff"), "groff is missing: apt-get install groff-base")
        let directory = try RepositoryFiles.temporaryDirectory("man")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("emnify-edge.toml.5")
        try ConfigurationManPage.render().write(to: page, atomically: true, encoding: .utf8)
        let result = try Tool.run("/usr/bin/groff", ["-man", "-ww", "-z", "-Tutf8", page.path])
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output)")
    }
}

/// The roff source of emnify-edge.toml(5).
enum ConfigurationManPage {
    static func render() -> String {
        var page = """
            .TH EMNIFY\\-EDGE.TOML 5 "" "emnify-edge" "File Formats Manual"
            .SH NAME
            emnify\\-edge.toml \\- configuration file of emnify\\-edge
            .SH SYNOPSIS
            .I /etc/emnify\\-edge/emnify\\-edge.toml
            .SH DESCRIPTION
            .B emnify\\-edge
            reads its configuration from a TOML file,
            .I /etc/emnify\\-edge/emnify\\-edge.toml
            unless
            .B \\-\\-config
            names another. The file has the sections
            \(ConfigurationKey.sections.map { "[\($0)]" }.joined(separator: ", ")).
            Every key is optional; an empty file is a valid configuration. Unknown sections and
            keys are errors, so typing mistakes show up. Check a changed file with
            .BR "emnify\\-edge config check \\-\\-config" " FILE"
            and reload the service with
            .BR "systemctl reload emnify\\-edge" .
            .PP
            Durations are strings such as "500ms", "30s", "10m", "2h", "7d" or combinations
            ("1h30m"); a plain integer means seconds. Paths are absolute.
            The shipped file lists every key, commented out, with its default.

            """
        for section in ConfigurationKey.sections {
            page += ".SH \"[\(section)]\"\n"
            for key in ConfigurationKey.all where key.section == section {
                page += ".TP\n.B \(escape(key.name))\n"
                let defaultText =
                    key.render(EdgeConfiguration()).map { "default: \($0)" }
                    ?? "unset: \(key.unsetMeaning ?? "none")"
                page += "(\(escape(key.type)); \(escape(defaultText))).\n"
                page += escape(key.summary) + "\n"
            }
        }
        page += """
            .SH APPLICATION TOKEN
            The emnify application token is looked up in this order: the environment variable
            .BR EMNIFY_APPLICATION_TOKEN ,
            the systemd credential
            .B application\\-token
            (the packaged unit loads it with
            .B LoadCredential=
            from
            .IR /etc/emnify\\-edge/application\\-token ,
            which can then stay owned by root with mode 0600), and the file named by
            .BR token_file .
            .PP
            To keep the token encrypted at rest, encrypt it with
            .BR systemd\\-creds (1)
            and point a drop\\-in
            .RB ( "systemctl edit emnify\\-edge" )
            at the result:
            .PP
            .nf
            .RS
            systemd\\-creds encrypt \\-\\-name=application\\-token token.txt \\e
                /etc/emnify\\-edge/application\\-token.cred
            .RE
            .fi
            .PP
            with the drop\\-in
            .PP
            .nf
            .RS
            [Unit]
            ConditionPathExists=
            ConditionPathExists=/etc/emnify\\-edge/application\\-token.cred
            [Service]
            LoadCredential=
            LoadCredentialEncrypted=application\\-token:/etc/emnify\\-edge/application\\-token.cred
            .RE
            .fi
            .SH FILES
            .TP
            .I /etc/emnify\\-edge/emnify\\-edge.toml
            This file.
            .TP
            .I /etc/emnify\\-edge/application\\-token
            The application token (not shipped; mode 0600).
            .TP
            .I /usr/share/emnify\\-edge/boards/
            Board profiles for
            .BR board ;
            .I /etc/emnify\\-edge/boards/
            adds or replaces profiles.
            .TP
            .I /var/lib/emnify\\-edge/
            State: feed cursors and the cached API token.
            .SH SEE ALSO
            .BR emnify\\-edge (1),
            .BR emnify\\-edge\\-run (1),
            .BR emnify\\-edge\\-config\\-check (1),
            .BR emnify\\-edge\\-relay.toml (5),
            .BR systemd.exec (5),
            .BR systemd\\-creds (1)

            """
        return asciiOnly(page)
    }

    /// Non-ASCII characters (en dashes, typographic quotes) as groff's \[uXXXX] escapes,
    /// so that the page needs no input encoding.
    static func asciiOnly(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                result.unicodeScalars.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            }
        }
        return result
    }

    /// Backslashes and hyphens escaped; a leading dot or quote cannot start a request.
    static func escape(_ text: String) -> String {
        var escaped = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        if escaped.hasPrefix(".") || escaped.hasPrefix("'") { escaped = "\\&" + escaped }
        return escaped
    }
}
