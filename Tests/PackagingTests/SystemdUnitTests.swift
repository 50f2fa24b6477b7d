import Foundation
import Testing

/// `packaging/debian/emnify-edge.service`: systemd's own offline checks.
@Suite struct SystemdUnitTests {
    static let unitPath = "packaging/debian/emnify-edge.service"

    /// `systemd-analyze security --offline=true` rates the hardening; the issue asks for at most 2.0.
    @Test func exposureScoreIsAtMostTwo() throws {
        try SystemdUnit.expectExposureAtMostTwo(Self.unitPath)
    }

    /// `systemd-analyze verify`: directives, values and dependencies.
    @Test func verifies() throws {
        try SystemdUnit.expectVerifies(Self.unitPath, execStart: "ExecStart=/usr/bin/emnify-edge run")
    }

    /// What the agent needs stays allowed: the D-Bus socket (AF_UNIX) and the network for
    /// mmcli, the API and the broker; the modem's serial ports; the token credential.
    @Test func keepsWhatTheAgentNeeds() throws {
        let text = try RepositoryFiles.text(Self.unitPath)
        let lines = text.split(separator: "\n").map(String.init)
        func values(_ key: String) -> [String] { SystemdUnit.values(key, inUnit: text) }
        #expect(values("Type") == ["notify"])
        #expect(values("User") == ["emnify-edge"])
        #expect(values("SupplementaryGroups") == ["dialout"])
        #expect(values("StateDirectory") == ["emnify-edge"])
        #expect(values("LoadCredential") == ["application-token:/etc/emnify-edge/application-token"])
        #expect(values("RestrictAddressFamilies") == ["AF_UNIX AF_INET AF_INET6"])
        #expect(values("DevicePolicy") == ["closed"])
        #expect(values("DeviceAllow").contains("char-ttyUSB rw"))
        #expect(values("DeviceAllow").contains("char-ttyACM rw"))
        #expect(values("PrivateNetwork").isEmpty && values("PrivateDevices").isEmpty)
        #expect(values("InaccessiblePaths").isEmpty, "/run/dbus/system_bus_socket must stay reachable")
        #expect(values("CapabilityBoundingSet") == [""])
        // Each directive of [Service] after ExecStart has a comment explaining it (or the
        // group it belongs to) right above it or above its group.
        var explained = true
        var previous = ""
        for line in lines.drop(while: { !$0.hasPrefix("[Service]") }) {
            if line.hasPrefix("[Install]") { break }
            if line.contains("="), !line.hasPrefix("#"), previous.isEmpty { explained = false }
            previous = line
        }
        #expect(explained, "a directive group without a comment")
    }
}

/// `packaging/debian/emnify-edge.emnify-edge-relay.service`, the fleet relay's unit: installed with
/// the package, not enabled (`debian/rules`), hardened like the agent's.
@Suite struct RelayUnitTests {
    static let unitPath = "packaging/debian/emnify-edge.emnify-edge-relay.service"
    static let execStart = "ExecStart=/usr/bin/emnify-edge relay --config /etc/emnify-edge/relay.toml"

    static func values(_ key: String) throws -> [String] {
        SystemdUnit.values(key, inUnit: try RepositoryFiles.text(unitPath))
    }

    @Test func exposureScoreIsAtMostTwo() throws {
        try SystemdUnit.expectExposureAtMostTwo(Self.unitPath)
    }

    @Test func verifies() throws {
        try SystemdUnit.expectVerifies(Self.unitPath, execStart: Self.execStart)
    }

    /// What the relay needs and what it is given, next to the agent's unit.
    @Test func isTheAgentsHardeningWithoutTheModem() throws {
        let agentUnit = try RepositoryFiles.text(SystemdUnitTests.unitPath)
        #expect(try Self.values("Type") == SystemdUnit.values("Type", inUnit: agentUnit))
        #expect(try Self.values("Type") == ["notify"])
        // No reload: a changed relay.toml takes a restart, and the relay ignores SIGHUP.
        #expect(try Self.values("ExecReload").isEmpty)
        #expect(try Self.values("User") == ["emnify-edge"])
        #expect(try Self.values("SupplementaryGroups").isEmpty, "no dialout: the relay reads no modem")
        #expect(try Self.values("StateDirectory") == ["emnify-edge-relay"])
        #expect(
            try Self.values("LoadCredential") == [
                "application-token:/etc/emnify-edge/application-token", "webhook-token:/etc/emnify-edge/webhook-token",
            ])
        #expect(
            try Self.values("ConditionPathExists") == [
                "/etc/emnify-edge/application-token", "/etc/emnify-edge/webhook-token",
            ])
        #expect(try Self.values("PrivateDevices") == ["yes"])
        #expect(try Self.values("CapabilityBoundingSet") == [""])
        #expect(try Self.values("RestrictAddressFamilies") == ["AF_UNIX AF_INET AF_INET6"])
        for key in [
            "ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges", "UMask", "SystemCallFilter",
            "MemoryDenyWriteExecute", "ProtectKernelTunables", "RestrictNamespaces", "SystemCallArchitectures",
        ] {
            #expect(try Self.values(key) == SystemdUnit.values(key, inUnit: agentUnit), "\(key) as the agent's")
        }
    }

    /// debian/rules installs the unit without enabling or starting it, and the agent's call leaves it alone.
    @Test func isInstalledButNotEnabled() throws {
        let rules = try RepositoryFiles.text("packaging/debian/rules")
        #expect(
            rules.contains(
                "\tdh_installsystemd -pemnify-edge --name=emnify-edge-relay --no-enable --no-start --restart-after-upgrade\n"
            ))
        #expect(rules.contains("\tdh_installsystemd -pemnify-edge --restart-after-upgrade emnify-edge.service\n"))
        let install = try RepositoryFiles.text("packaging/debian/emnify-edge.install")
        #expect(install.contains("\nrelay.toml etc/emnify-edge\n"))
        let build = try RepositoryFiles.text("packaging/build-deb.sh")
        #expect(build.contains("cp \"$root/packaging/relay.toml\" \"$src/relay.toml\""))
    }
}

/// The checks both units take: systemd's offline analysis and the directives' values.
enum SystemdUnit {
    static let analyze = "/usr/bin/systemd-analyze"

    /// The values of the `key=` lines (not comments) of the unit file `text`, in file order.
    static func values(_ key: String, inUnit text: String) -> [String] {
        text.split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("#") && $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// `systemd-analyze security --offline=true` rates the unit's hardening at most 2.0.
    static func expectExposureAtMostTwo(
        _ unitPath: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try #require(Tool.exists(analyze), "systemd-analyze is missing: apt-get install systemd")
        let directory = try RepositoryFiles.temporaryDirectory("unit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let unit = directory.appendingPathComponent(unitName(unitPath))
        try FileManager.default.copyItem(at: RepositoryFiles.url(unitPath), to: unit)
        let result = try Tool.run(analyze, ["security", "--offline=true", "--no-pager", unit.path])
        let line = result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }
        // "-> Overall exposure level for emnify-edge.service: 1.7 OK :-)" (the smiley depends on the locale).
        let score = line.flatMap { line -> Double? in
            guard let unitName = line.range(of: ".service: ") else { return nil }
            return line[unitName.upperBound...].split(separator: " ").first.flatMap { Double($0) }
        }
        #expect(score != nil, "no score in: \(result.output.suffix(400))", sourceLocation: sourceLocation)
        if let score { #expect(score <= 2.0, "exposure \(score)", sourceLocation: sourceLocation) }
    }

    /// `systemd-analyze verify`: directives, values and dependencies, with no output at all. It also
    /// checks that ExecStart= exists, so the copy runs /bin/true instead of the not yet installed
    /// binary; `execStart` is the line the unit must have.
    static func expectVerifies(
        _ unitPath: String, execStart: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try #require(Tool.exists(analyze), "systemd-analyze is missing: apt-get install systemd")
        let directory = try RepositoryFiles.temporaryDirectory("unit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try RepositoryFiles.text(unitPath)
        #expect(text.contains("\n\(execStart)\n"), sourceLocation: sourceLocation)
        let unit = directory.appendingPathComponent(unitName(unitPath))
        try text.replacingOccurrences(of: "ExecStart=/usr/bin/emnify-edge ", with: "ExecStart=/bin/true ")
            .write(to: unit, atomically: true, encoding: .utf8)
        let result = try Tool.run(analyze, ["verify", "--man=no", unit.path])
        #expect(result.status == 0, "\(result.output)", sourceLocation: sourceLocation)
        #expect(result.output.isEmpty, "\(result.output)", sourceLocation: sourceLocation)
    }

    /// The name systemd gives the installed unit: `emnify-edge.emnify-edge-relay.service` (debhelper's
    /// `<package>.<unit>` form) is installed as `emnify-edge-relay.service`.
    static func unitName(_ unitPath: String) -> String {
        let file = URL(fileURLWithPath: unitPath).lastPathComponent
        let parts = file.split(separator: ".")
        return parts.count > 2 ? parts.dropFirst().joined(separator: ".") : file
    }
}
