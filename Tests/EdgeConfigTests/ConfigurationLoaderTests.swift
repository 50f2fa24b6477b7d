import EdgeConfig
import Testing

/// The problems `text` has, or an issue when it has none.
func problems(in text: String) -> [ConfigurationProblem] {
    do {
        _ = try ConfigurationLoader.parse(text, source: "test.toml")
        Issue.record("expected problems, the text parsed")
        return []
    } catch {
        return error.problems
    }
}

/// (text, key of the one problem, fragment of its message)
private let invalidCases: [(String, String, String)] = [
    ("[api]\nurl = \"ftp://x\"", "api.url", "https://"),
    ("[api]\nurl = \"http://cdn.emnify.net\"", "api.url", "plain http"),
    ("[api]\nurl = \"https://\"", "api.url", "no valid host"),
    ("[api]\ntoken_file = \"token\"", "api.token_file", "absolute path"),
    ("[api]\ntimeout = \"0s\"", "api.timeout", "greater than zero"),
    ("[api]\ntimeout = 0", "api.timeout", "greater than zero"),
    ("[api]\ntimeout = -3", "api.timeout", "negative"),
    ("[api]\ntimeout = \"30\"", "api.timeout", "no unit"),
    ("[api]\nmax_response_size = 10", "api.max_response_size", "out of range"),
    ("[modem]\nsource = \"usb\"", "modem.source", "\"auto\", \"modemmanager\", \"at\", \"static\""),
    ("[modem]\niccid = \"12345\"", "modem.iccid", "18 to 20"),
    ("[modem]\niccid = \"8988303000012345678X\"", "modem.iccid", "not an ICCID"),
    ("[modem]\nimei = \"35693803564380\"", "modem.imei", "14 digits"),
    ("[modem]\nimsi = \"29505A\"", "modem.imsi", "only digits"),
    ("[modem]\nboard = \"Quectel EC25\"", "modem.board", "board profile name"),
    ("[modem]\niccid_command = \"QCCID\"", "modem.iccid_command", "AT command"),
    // "\r\n" is one Character in Swift: a check for "\r" or "\n" alone let it through.
    ("[modem]\niccid_command = \"AT+QCCID\\r\\nAT+CFUN=0\"", "modem.iccid_command", "AT command"),
    ("[modem]\nsource = \"static\"", "modem.source", "needs modem.iccid"),
    ("[agent]\nbackfill = \"31d\"", "agent.backfill", "the most is 30d"),
    ("[agent]\npoll_interval = \"500ms\"", "agent.poll_interval", "once a second"),
    ("[agent]\npoll_interval = \"50ms\"", "agent.poll_interval", "once a second"),
    (
        "[api]\nurl = \"https://cdn.emnify.net.127.0.0.1.example\"\n[agent]\npoll_interval = \"500ms\"",
        "agent.poll_interval",
        "once a second"
    ),
    ("[mqtt]\nport = 0", "mqtt.port", "1 to 65535"),
    ("[mqtt]\nport = 70000", "mqtt.port", "1 to 65535"),
    ("[mqtt]\nkeepalive = 0", "mqtt.keepalive", "greater than zero"),
    ("[mqtt]\nkeepalive = \"1d\"", "mqtt.keepalive", "the most is"),
    ("[mqtt]\nprotocol = \"4\"", "mqtt.protocol", "\"3.1.1\""),
    ("[mqtt]\nhost = \"mqtt://broker\"", "mqtt.host", "is a URL"),
    ("[mqtt]\ntopic_prefix = \"emnify/#\"", "mqtt.topic_prefix", "wildcard"),
    ("[mqtt]\ncert_file = \"/c.pem\"", "mqtt.cert_file", "key_file"),
    ("[mqtt]\npassword_file = \"/p\"", "mqtt.password_file", "username"),
    ("[api]\ntimeout = \"5s\"\nconnect_timeout = \"10s\"", "api.connect_timeout", "api.timeout"),
    ("[log]\nlevel = \"verbose\"", "log.level", "\"debug\""),
]

@Suite struct ConfigurationLoaderTests {
    /// The benchmark's 10,000 idle polls: faster than once a second only against an API on this machine.
    @Test func subSecondPollsOnlyAgainstALocalAPI() throws {
        for url in ["http://127.0.0.1:8080", "https://localhost/api", "http://[::1]:9000"] {
            let configuration = try ConfigurationLoader.parse(
                "[api]\nurl = \"\(url)\"\n[agent]\npoll_interval = \"100ms\"\n", source: "bench.toml")
            #expect(configuration.agent.pollInterval == .milliseconds(100), "\(url)")
        }
    }

    @Test func emptyFileGivesDefaults() throws {
        #expect(try ConfigurationLoader.parse("", source: "empty") == EdgeConfiguration())
        #expect(try ConfigurationLoader.parse("# only a comment\n\n[api]\n", source: "x") == EdgeConfiguration())
    }

    @Test func everyKeyIsParsed() throws {
        let text = """
            [api]
            url = "https://api.example.com:8443/base"
            token_file = "/run/token"
            ca_file = "/etc/ssl/ca.pem"
            timeout = "45s"
            connect_timeout = 5
            max_response_size = 1048576

            [modem]
            source = "static"
            board = "quectel-ec25"
            mmcli = "/usr/local/bin/mmcli"
            at_port = "/dev/ttyUSB2"
            iccid_command = "AT+QCCID"
            iccid = "8988303000012345678F"
            imei = "356938035643809"
            imsi = "295050901234567"
            timeout = "3s"

            [agent]
            state_dir = "/data/emnify"
            poll_interval = "2m"
            backfill = "7d"
            look_back = "15m"
            events = "bridge"
            quiet_limit = "20m"

            [mqtt]
            host = "broker.local"
            port = 8883
            client_id = "gw-1"
            topic_prefix = "fleet/emnify"
            username = "edge"
            password_file = "/etc/emnify-edge/mqtt-password"
            ca_file = "/etc/mqtt/ca.pem"
            cert_file = "/etc/mqtt/client.pem"
            key_file = "/etc/mqtt/client.key"
            keepalive = "30s"
            protocol = "3.1.1"

            [log]
            level = "debug"
            """
        let configuration = try ConfigurationLoader.parse(text, source: "full.toml")
        var expected = EdgeConfiguration()
        expected.api.url = "https://api.example.com:8443/base"
        expected.api.tokenFile = "/run/token"
        expected.api.caFile = "/etc/ssl/ca.pem"
        expected.api.timeout = .seconds(45)
        expected.api.connectTimeout = .seconds(5)
        expected.api.maxResponseSize = 1_048_576
        expected.modem.source = .static
        expected.modem.board = "quectel-ec25"
        expected.modem.mmcli = "/usr/local/bin/mmcli"
        expected.modem.atPort = "/dev/ttyUSB2"
        expected.modem.iccidCommand = "AT+QCCID"
        expected.modem.iccid = "8988303000012345678F"
        expected.modem.imei = "356938035643809"
        expected.modem.imsi = "295050901234567"
        expected.modem.timeout = .seconds(3)
        expected.agent.stateDir = "/data/emnify"
        expected.agent.pollInterval = .seconds(120)
        expected.agent.backfill = .seconds(7 * 86_400)
        expected.agent.lookBack = .seconds(900)
        expected.agent.events = .bridge
        expected.agent.quietLimit = .seconds(1200)
        expected.mqtt.host = "broker.local"
        expected.mqtt.port = 8883
        expected.mqtt.clientID = "gw-1"
        expected.mqtt.topicPrefix = "fleet/emnify"
        expected.mqtt.username = "edge"
        expected.mqtt.passwordFile = "/etc/emnify-edge/mqtt-password"
        expected.mqtt.caFile = "/etc/mqtt/ca.pem"
        expected.mqtt.certFile = "/etc/mqtt/client.pem"
        expected.mqtt.keyFile = "/etc/mqtt/client.key"
        expected.mqtt.keepalive = .seconds(30)
        expected.mqtt.protocolVersion = .v311
        expected.log.level = .debug
        #expect(configuration == expected)
        // The test text names every key of the table.
        let locator = TOMLKeyLocator(text)
        for key in ConfigurationKey.all {
            #expect(locator.line(of: key.path) != nil, "\(key.path) is not in the test text")
        }
    }

    @Test func inlineTablesAndDottedKeysWork() throws {
        let configuration = try ConfigurationLoader.parse(
            """
            api = { timeout = "1m", connect_timeout = "2s" }
            mqtt.port = 1884
            """, source: "x")
        #expect(configuration.api.timeout == .seconds(60))
        #expect(configuration.mqtt.port == 1884)
    }

    @Test func durationsInBothForms() throws {
        let text = "[agent]\npoll_interval = 90\nbackfill = \"1d12h\"\nlook_back = \"500ms\"\n"
        let configuration = try ConfigurationLoader.parse(text, source: "x")
        #expect(configuration.agent.pollInterval == .seconds(90))
        #expect(configuration.agent.backfill == .seconds(36 * 3600))
        #expect(configuration.agent.lookBack == .milliseconds(500))
    }

    @Test func syntaxErrorHasLineAndColumn() {
        let found = problems(in: "[api]\nurl = \"https://x\"\ntimeout = = 5\n")
        #expect(found.count == 1)
        #expect(found.first?.key == nil)
        #expect(found.first?.line == 3)
        #expect(found.first?.column != nil)
    }

    @Test func unknownKeyWithSuggestion() {
        let found = problems(in: "[agent]\n\npoll_intervall = \"30s\"\n")
        #expect(
            found == [
                ConfigurationProblem(
                    key: "agent.poll_intervall", line: 3,
                    message: "unknown key poll_intervall in [agent]; did you mean poll_interval?")
            ])
    }

    @Test func keyInTheWrongSectionSaysWhere() {
        let found = problems(in: "[api]\npoll_interval = \"30s\"\n")
        #expect(found.first?.key == "api.poll_interval")
        #expect(found.first?.message.contains("belongs in [agent]") == true)
    }

    @Test func unknownSectionWithSuggestion() {
        let found = problems(in: "[mqt]\nhost = \"x\"\n\n[api]\nurl = \"https://x\"\n")
        #expect(found.count == 1)
        #expect(found.first?.key == "mqt")
        #expect(found.first?.line == 1)
        #expect(found.first?.message.contains("did you mean [mqtt]?") == true)
        let topLevel = problems(in: "url = \"https://x\"\n")
        #expect(topLevel.first?.message.contains("belongs in [api]") == true)
    }

    @Test func wrongTypes() {
        let found = problems(
            in: """
                [api]
                timeout = 3.5
                url = 5
                [mqtt]
                port = "1883"
                [log]
                level = true
                [modem]
                iccid = 8988303000012345678
                """)
        #expect(found.map(\.key) == ["api.timeout", "api.url", "mqtt.port", "log.level", "modem.iccid"])
        #expect(found.map(\.line) == [2, 3, 5, 7, 9])
        #expect(found[0].message.contains("expected a duration like \"30s\""))
        #expect(found[1].message.contains("expected a string"))
        #expect(found[2].message.contains("expected an integer"))
        #expect(found[3].message.contains("\"info\""))
        let sectionNotTable = problems(in: "api = \"https://x\"\n")
        #expect(sectionNotTable.first?.key == "api")
        #expect(sectionNotTable.first?.message.contains("expected a table") == true)
    }

    @Test(arguments: invalidCases)
    func invalidValues(text: String, key: String, fragment: String) {
        let found = problems(in: text)
        #expect(found.count == 1)
        #expect(found.first?.key == key)
        #expect(found.first?.line != nil)
        #expect(found.first?.message.contains(fragment) == true, "\(found.first?.message ?? "")")
    }

    @Test(arguments: ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9000/api", "https://cdn.emnify.net"])
    func allowedURLs(url: String) throws {
        #expect(try ConfigurationLoader.parse("[api]\nurl = \"\(url)\"", source: "x").api.url == url)
    }

    @Test func protocolAsNumber() throws {
        #expect(try ConfigurationLoader.parse("[mqtt]\nprotocol = 5", source: "x").mqtt.protocolVersion == .v5)
    }

    @Test func everyProblemAtOnce() {
        let text = """
            [api]
            url = "http://cdn.emnify.net"
            timeout = "soon"

            [agent]
            pol_interval = "30s"

            [mqtt]
            port = 0
            keepalive = 0

            [extra]
            """
        let found = problems(in: text)
        #expect(
            found.map(\.key) == [
                "api.url", "api.timeout", "agent.pol_interval", "mqtt.port", "mqtt.keepalive", "extra",
            ])
        #expect(found.map(\.line) == [2, 3, 6, 9, 10, 12])
        do {
            _ = try ConfigurationLoader.parse(text, source: "/etc/emnify-edge/emnify-edge.toml")
            Issue.record("a file with six problems was accepted")
        } catch {
            let lines = error.description.split(separator: "\n")
            #expect(lines.count == 6)
            #expect(lines[1].hasPrefix("/etc/emnify-edge/emnify-edge.toml:3: api.timeout: "))
            #expect(lines[1].contains("expected a duration like \"30s\""))
        }
    }

    @Test func problemDescriptions() {
        let problem = ConfigurationProblem(key: "api.timeout", line: 7, message: "bad")
        #expect(problem.description(in: "a.toml") == "a.toml:7: api.timeout: bad")
        let syntax = ConfigurationProblem(key: nil, line: 2, column: 5, message: "oops")
        #expect(syntax.description(in: "a.toml") == "a.toml:2:5: syntax error: oops")
        let noLine = ConfigurationProblem(key: "modem.source", line: nil, message: "m")
        #expect(noLine.description(in: "a.toml") == "a.toml:modem.source: m")
    }
}
