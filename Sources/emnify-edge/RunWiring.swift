#if canImport(Glibc)
import Glibc
#endif
import EdgeAgent
import EdgeCommon
import EdgeConfig
import EdgeMQTT
import Logging
import ModemIdentity

/// The agent's ports, implemented by the real parts.
struct BrokerPublisher: MessagePublisher {
    let connection: MQTTConnection

    func publish(_ messages: [AgentMessage]) async throws {
        try await connection.publish(messages.map(MQTTMessage.init))
    }

    func handOver(_ messages: [AgentMessage]) async throws -> PublishAcknowledgement {
        let receipt = try await connection.handOver(messages.map(MQTTMessage.init))
        let connection = self.connection
        return PublishAcknowledgement { try await connection.acknowledgement(of: receipt) }
    }
}

extension MQTTMessage {
    init(_ message: AgentMessage) {
        self.init(
            topic: message.topic, payload: message.payload, qos: 1, retain: message.retain,
            properties: MQTTProperties(
                contentType: message.contentType, userProperties: message.userProperties.map { ($0.name, $0.value) }))
    }
}

struct ModemIdentitySource: IdentityProvider {
    let reader: ModemIdentityReader

    func readIdentity() async throws -> AgentIdentity {
        let report = try await reader.read()
        guard let iccid = report.iccid else {
            throw CommandFailure("the modem reported no ICCID (source \(report.source.rawValue))")
        }
        let location = report.location.map { " \($0)" } ?? ""
        return AgentIdentity(iccid: iccid, imei: report.imei, imsi: report.imsi, source: report.source.rawValue + location)
    }
}

extension CommandContext {
    func agentSettings() -> AgentSettings {
        var settings = AgentSettings()
        let agent = configuration.agent
        settings.pollInterval = agent.pollInterval
        settings.backfill = agent.backfill
        settings.lookBack = agent.lookBack
        settings.stateDirectory = agent.stateDir
        settings.topicPrefix = configuration.mqtt.topicPrefix
        return settings
    }

    func mqttSettings(will: MQTTMessage?) throws -> MQTTSettings {
        let mqtt = configuration.mqtt
        let secret = try mqttPassword()
        if let finding = secret?.permissionFinding { logger.warning("\(finding)") }
        let password = secret?.value
        var tls: MQTTTLSSettings?
        if let caFile = mqtt.caFile {
            tls = MQTTTLSSettings(caFile: caFile, certFile: mqtt.certFile, keyFile: mqtt.keyFile)
        }
        let version: MQTTProtocolChoice
        switch mqtt.protocolVersion {
        case .auto: version = .auto
        case .v5: version = .v5
        case .v311: version = .v311
        }
        return MQTTSettings(
            host: mqtt.host, port: mqtt.port, clientID: mqtt.clientID ?? "emnify-edge-\(HostName.current)",
            username: mqtt.username, password: password, tls: tls, keepalive: mqtt.keepalive, protocolVersion: version,
            will: will, cleanSession: false)
    }
}

enum HostName {
    static var current: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "gateway" }
        let name = String(cString: buffer)
        return name.isEmpty ? "gateway" : name
    }
}
