import EdgeCommon
import EmnifyAPI
import Logging

/// Who the agent publishes for: the modem's identity (re-read for SIM swaps) and the SIM and
/// endpoint it names in emnify.
extension Agent {
    func refreshIdentity() async throws {
        let now = clock.monotonicMilliseconds()
        guard identity == nil || now - identityReadAtMillis >= settings.identityInterval.wholeMilliseconds else {
            return
        }
        let fresh = try await identityProvider.readIdentity()
        identityReadAtMillis = now
        if let identity, identity.iccid != fresh.iccid {
            // The Last Will names the old SIM's topic and is fixed at connect time: restart.
            logger.notice("SIM changed", metadata: ["from": "\(identity.iccid)", "to": "\(fresh.iccid)"])
            throw AgentStop.identityChanged(from: identity.iccid.normalized, to: fresh.iccid.normalized)
        }
        if identity == nil {
            if let known = state.iccid, known != fresh.iccid.normalized {
                logger.notice(
                    "a different SIM than last time: starting with fresh cursors", metadata: ["previous": "\(known)"])
                state = AgentState()
            }
            state.iccid = fresh.iccid.normalized
        }
        identity = fresh
    }

    /// Finds SIM and endpoint; returns an outcome when polling cannot start yet.
    func resolveSIM(_ identity: AgentIdentity) async throws -> PollOutcome? {
        let now = clock.monotonicMilliseconds()
        if state.simID != nil {
            // Looked up once per start, then again only while the SIM has no endpoint.
            let due = simCheckedAtMillis == 0 || (state.endpointID == nil && now - simCheckedAtMillis >= 300_000)
            guard due else { return nil }
        } else if simCheckedAtMillis != 0 && now - simCheckedAtMillis < 600_000 {
            return .waitingForSIM("SIM \(identity.iccid) not found in emnify; checking again in a few minutes")
        }
        simCheckedAtMillis = now
        guard let sim = try await api.findSIM(iccid: identity.iccid) else {
            state.lastError = "SIM \(identity.iccid) is not in the emnify organisation of this application token"
            logger.error("\(state.lastError!)")
            return .waitingForSIM(state.lastError!)
        }
        let changed = sim.id != state.simID || sim.endpoint?.id != state.endpointID
        state.simID = sim.id
        state.endpointID = sim.endpoint?.id
        state.endpointName = sim.endpoint?.name
        if sim.endpoint == nil {
            logger.notice("SIM has no endpoint yet: polling the SIM's events only", metadata: ["sim": "\(sim.id)"])
        }
        if changed {
            logger.info(
                "resolved",
                metadata: ["sim": "\(sim.id)", "endpoint": "\(sim.endpoint.map { String($0.id) } ?? "none")"])
            try await publish([
                .json(publishedIdentity(identity), topic: topicLayout(for: identity).identity, retain: true)
            ])
            identityPublished = true
        }
        return nil
    }

    func topicLayout(for identity: AgentIdentity) -> TopicLayout {
        TopicLayout(prefix: settings.topicPrefix, iccid: identity.iccid.topicForm)
    }

    func publishedIdentity(_ identity: AgentIdentity) -> PublishedIdentity {
        PublishedIdentity(
            iccid: identity.iccid.topicForm, iccidAsRead: identity.iccid.asRead,
            imei: identity.imei, imsi: identity.imsi, simID: state.simID, endpointID: state.endpointID,
            endpointName: state.endpointName, source: identity.source)
    }
}
