import EdgeCommon
import EdgeConfig
import EdgeMQTT
import EdgeRuntime

/// The one mapping from `relay.toml` to the relay's parts.
extension Relay.Settings {
    public static func configured(_ configuration: EdgeConfiguration) -> Relay.Settings {
        let relay = configuration.relay
        let tls = relay.tlsCertificate.flatMap { certificate in relay.tlsKey.map { (certificate, $0) } }
        return Relay.Settings(
            topics: RelayTopics(prefix: configuration.mqtt.topicPrefix, relayID: relay.relayID ?? HostName.current),
            pollInterval: relay.pollInterval,
            poller: .init(backfill: relay.backfill, lookBack: relay.lookBack),
            webhook: .init(
                host: relay.listen.host, port: relay.listen.port, path: relay.webhookPath,
                maxBodySize: relay.maxBodySize, tls: tls),
            ackTimeout: relay.ackTimeout, stateDirectory: relay.stateDir)
    }
}

extension MQTTSettings {
    /// The cluster connection of `[mqtt]` for the relay: its own client id, a clean session (every
    /// connect subscribes again, and the retained statuses and states arrive again), and the status
    /// topic's Last Will. A persistent session would also bring the events the other relay published
    /// while this one was down (fewer repeats after a restart), but messages a resumed session delivers
    /// before the subscription is renewed on a new node are lost to the relay (MQTTFailoverConnection).
    public static func relayConfigured(
        _ configuration: EdgeConfiguration, password: Secret?, topics: RelayTopics
    ) -> MQTTSettings {
        var settings = MQTTSettings.configured(configuration.mqtt, password: password, will: Relay.will(topics))
        settings.clientID = configuration.mqtt.clientID ?? "emnify-edge-relay-\(topics.relayID)"
        settings.cleanSession = true
        return settings
    }
}
