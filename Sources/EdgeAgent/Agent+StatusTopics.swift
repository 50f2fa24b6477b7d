import EdgeCommon
import EmnifyAPI
import Logging

/// The retained topics beside the events (identity, state, health) and the notices: what is
/// published after each poll, after a reconnect and when the daemon reports a problem.
extension Agent {
    func publishStatusTopics(_ identity: AgentIdentity) async throws {
        let topics = topicLayout(for: identity)
        var messages: [MQTTMessage] = []
        if !identityPublished {
            messages.append(.json(publishedIdentity(identity), topic: topics.identity, retain: true))
        }
        let stateMessage = MQTTMessage.json(state.connectivity, topic: topics.state, retain: true)
        if stateMessage.payload != publishedStateJSON {
            messages.append(stateMessage)
        }
        messages.append(.json(await healthReport(), topic: topics.health, retain: true))
        try await publish(messages)
        identityPublished = true
        publishedStateJSON = stateMessage.payload
    }

    /// The retained messages a reconnect must re-publish (state, identity, health).
    public func retainedMessages() async -> [MQTTMessage] {
        guard let identity else { return [] }
        let topics = topicLayout(for: identity)
        return [
            .json(publishedIdentity(identity), topic: topics.identity, retain: true),
            .json(state.connectivity, topic: topics.state, retain: true),
            .json(await healthReport(), topic: topics.health, retain: true),
        ]
    }

    /// Forgets what was published as retained, so that it is published again (after a reconnect).
    public func invalidateRetained() {
        publishedStateJSON = []
    }

    /// A problem of the daemon's configuration (a refused reload), shown as `last_error` on the
    /// health topic until cleared with nil; the health topic is published at once.
    public func reportConfigurationProblem(_ problem: String?) async {
        configurationProblem = problem
        guard let identity else { return }
        let health = MQTTMessage.json(await healthReport(), topic: topicLayout(for: identity).health, retain: true)
        try? await publisher.publish([health])
    }

    func healthReport() async -> HealthReport {
        let usage = await api.usage
        let newest = state.cursors.values.compactMap(\.newestMillis).max()
        let problems = [state.lastError, saveProblem, configurationProblem].compactMap { $0 }
        let apiNow = await api.apiTimeMilliseconds()
        return HealthReport(
            lastSuccessfulPoll: state.lastSuccessfulPollMillis.map { EmnifyTimestamp(millisecondsSinceEpoch: $0).text },
            lastError: problems.isEmpty ? nil : problems.joined(separator: "; "),
            requestsToday: usage.requests, bytesToday: usage.bytesSent + usage.bytesReceived,
            authenticationsToday: usage.authentications,
            cursorLagSeconds: newest.map { (apiNow - $0) / 1000 },
            pollIntervalSeconds: Int64(settings.pollInterval.components.seconds),
            clockOffsetSeconds: await api.clockOffsetMillis.map { $0 / 1000 }, bridge: bridgeHealth)
    }

    func announceGap(_ feed: EventFeed, cursor: FeedCursor, oldestKept: Int64, topics: TopicLayout) async throws {
        let key = Self.key(feed)
        guard gapNoticeSent.insert(key).inserted else { return }
        let notice = GapNotice(
            feed: key,
            message:
                "emnify-edge was away longer than emnify keeps events (30 days): events between these times may be missing",
            from: EmnifyTimestamp(millisecondsSinceEpoch: cursor.newestMillis ?? cursor.windowStart).text,
            until: EmnifyTimestamp(millisecondsSinceEpoch: oldestKept).text)
        logger.warning("possible gap in the event history", metadata: ["feed": "\(key)", "until": "\(notice.until)"])
        try await publish([.json(notice, topic: topics.notice, retain: false)])
    }
}
