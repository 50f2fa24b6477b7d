import EdgeConfig
import Testing

/// The filling-in of the bridge template, without the CLI: the loopback rule that `--no-tls` depends on,
/// the connection's refusals, and nothing from the values can add a line to mosquitto.conf.
@Suite struct BridgeSnippetTests {
    static let template = "addresses @ADDRESSES@\n@CREDENTIALS@\n@TLS@\ntopic @PREFIX@/@ICCID@/event/+ in 1\n"

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1"])
    func loopback(_ host: String) {
        #expect(BridgeSnippet.isLoopback(host))
    }

    @Test(arguments: [
        "10.0.0.1", "127.0.0.1.example.net", "127.0.0.256", "1270.0.0.1", "localhost.example.net", "::ffff:10.0.0.1",
        "nats-1.example.net", "",
    ])
    func notLoopback(_ host: String) {
        #expect(!BridgeSnippet.isLoopback(host))
    }

    @Test func rendersEveryField() throws {
        let connection = try BridgeSnippet.Connection(
            addresses: [HostAndPort(host: "nats-1.example.net", port: 8883), HostAndPort(host: "::1", port: 1883)],
            username: "gateway", password: Secret(value: "pw", source: .file(path: "/p")),
            transport: .tlsWithCAFile("/etc/emnify-edge/cluster-ca.pem"))
        let text = try BridgeSnippet(connection: connection, iccid: "8988307000001234567", prefix: "site/emnify")
            .render(template: Self.template)
        #expect(
            text == """
                addresses nats-1.example.net:8883 ::1:1883
                remote_username gateway
                remote_password pw
                bridge_cafile /etc/emnify-edge/cluster-ca.pem
                topic site/emnify/8988307000001234567/event/+ in 1

                """)
    }

    @Test func refusals() {
        let remote = HostAndPort(host: "nats-1.example.net", port: 1883)
        #expect(throws: BridgeSnippetError.noAddress) {
            try BridgeSnippet.Connection(addresses: [], username: nil, password: nil, transport: .plain)
        }
        #expect(throws: BridgeSnippetError.plainToRemoteHost(remote)) {
            try BridgeSnippet.Connection(addresses: [remote], username: nil, password: nil, transport: .plain)
        }
        #expect(throws: BridgeSnippetError.duplicateAddress(remote)) {
            try BridgeSnippet.Connection(
                addresses: [remote, remote], username: nil, password: nil, transport: .tls(caPath: "/etc/ssl/certs"))
        }
        #expect(throws: BridgeSnippetError.passwordWithoutUsername) {
            try BridgeSnippet.Connection(
                addresses: [remote], username: nil, password: Secret(value: "pw", source: .file(path: "/p")),
                transport: .tls(caPath: "/etc/ssl/certs"))
        }
        // A line break or blank would add a setting to mosquitto.conf or cut a topic line.
        #expect(throws: BridgeSnippetError.badUsername) {
            try BridgeSnippet.Connection(
                addresses: [remote], username: "gw\ntopic # in 1", password: nil,
                transport: .tls(caPath: "/etc/ssl/certs"))
        }
        #expect(throws: BridgeSnippetError.badCAPath("/etc/ca.pem\ntopic # in 1")) {
            try BridgeSnippet.Connection(
                addresses: [remote], username: nil, password: nil,
                transport: .tlsWithCAFile("/etc/ca.pem\ntopic # in 1"))
        }
        #expect(throws: BridgeSnippetError.blankInPrefix("my emnify")) {
            let connection = try BridgeSnippet.Connection(
                addresses: [remote], username: nil, password: nil, transport: .tls(caPath: "/etc/ssl/certs"))
            _ = try BridgeSnippet(connection: connection, iccid: "8988307000001234567", prefix: "my emnify")
        }
    }
}
