import EdgeCommon
import EdgeMQTT
import EdgeProcess
import Foundation
import TestSupport
import Testing

/// A throw-away CA and a server certificate for 127.0.0.1, made with the openssl command.
struct TestCertificates {
    let directory: URL
    var caFile: String { directory.appendingPathComponent("ca.crt").path }
    var otherCAFile: String { directory.appendingPathComponent("other-ca.crt").path }
    var certFile: String { directory.appendingPathComponent("server.crt").path }
    var keyFile: String { directory.appendingPathComponent("server.key").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
            to: directory.appendingPathComponent("ext"), atomically: true, encoding: .utf8)
        for arguments in [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
                "-subj", "/CN=edge-test-ca",
            ],
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.crt",
                "-days", "1", "-subj", "/CN=other-ca",
            ],
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
                "/CN=127.0.0.1",
            ],
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                "server.crt", "-days", "1", "-extfile", "ext",
            ],
        ] {
            let process = try ProcessRunner.run(
                executable: "/usr/bin/openssl", arguments: arguments, directory: directory.path, timeout: .seconds(60))
            guard process.status == 0 else { throw BrokerError("openssl \(arguments[0]) failed") }
        }
    }
}

@Suite("TLS to the broker")
struct TLSTests {
    @Test(.timeLimit(.minutes(1)))
    func verifiedTLSConnectsAndAnUntrustedCAIsAClearError() async throws {
        let certificates = try TestCertificates()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let broker = try MosquittoBroker(
            options: .init(extraConfiguration: [
                "cafile \(certificates.caFile)", "certfile \(certificates.certFile)",
                "keyfile \(certificates.keyFile)",
            ]))
        var tls = MQTTSettings(host: "127.0.0.1", port: broker.port, clientID: "tls", keepalive: .seconds(10))
        tls.tls = MQTTTLSSettings(caFile: certificates.caFile)
        let connection = try MQTTConnection(settings: tls, logger: testLogger)
        try await connection.start(timeout: .seconds(5))
        let stream = try await connection.subscribe("tls/#", qos: 1)
        try await connection.publish(MQTTMessage(topic: "tls/x", text: "secret", qos: 1))
        let received = await collect(stream, count: 1, timeout: .seconds(5))
        #expect(received.first.map { String(decoding: $0.payload, as: UTF8.self) } == "secret")
        await connection.stop(timeout: .seconds(2))

        var untrusted = tls
        untrusted.tls = MQTTTLSSettings(caFile: certificates.otherCAFile)
        let refused = try MQTTConnection(settings: untrusted, logger: testLogger)
        // A refusal is reported as what it is, at once: with a start timeout far longer than any
        // handshake, an implementation that retried until the timeout would throw .timeout instead.
        do {
            try await refused.start(timeout: .seconds(120))
            Issue.record("TLS accepted a certificate from an untrusted CA")
        } catch {
            guard case .tls = error else { throw error }
            #expect(error.description.contains("CA"))
        }
    }
}
