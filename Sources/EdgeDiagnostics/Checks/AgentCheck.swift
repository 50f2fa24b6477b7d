import EdgeAgent
import EdgeCommon
import EdgeConfig
import EmnifyAPI
import FoundationEssentials
import ModemIdentity

/// 9. The agent daemon: running or not (systemd if present), its state directory (cursor, last
/// successful poll, lag, last error), requests and bytes used today.
struct AgentCheck: DiagnosticCheck {
    let id = "agent"
    let title = "Agent daemon"

    func run(_ session: DiagnosticSession) async -> CheckOutcome {
        let service = session.inputs.serviceName
        let configPath = session.inputs.configPath
        let (systemd, processes) = await BlockingExecutor.shared.run {
            (AgentProcess.systemdState(unit: service), AgentProcess.running(configPath: configPath))
        }
        var details: [String: String] = ["service": systemd ?? "no systemd"]
        if !processes.this.isEmpty { details["pids"] = processes.this.map { String($0.pid) }.joined(separator: ",") }
        if !processes.others.isEmpty {
            details["other_agents"] = processes.others.map { "pid \($0.pid) runs \($0.configPath)" }
                .joined(separator: "; ")
        }
        // Only a process running this configuration is the daemon. systemd's word counts when no
        // process can be seen at all (another user's /proc hidden); when all that run use another file,
        // the unit runs another configuration than the one diagnosed.
        let running = !processes.this.isEmpty || (systemd == "active" && processes.others.isEmpty)
        session.agentRunning = running

        let agent = session.configuration.agent
        let store = AgentStateStore(directory: agent.stateDir)
        let (state, outcome) = store.load()
        details["state_file"] = store.path
        let saved = StateFreshness.savedAt(store)
        if let saved { details["state_saved"] = UTCDateTime(secondsSinceEpoch: saved).iso8601 }
        let poll = agent.pollInterval.components.seconds
        // A bridged agent reads the API only to close a gap, and saves when events arrive: neither the
        // state's age nor the last read's says anything there (the event-lag check measures freshness).
        let bridged = agent.events == .bridge
        let stale =
            running && !bridged
            ? StateFreshness.staleness(
                savedAt: saved, now: session.clock.nowSeconds(), pollSeconds: poll,
                daemonStartedAt: processes.this.first.flatMap { StateFreshness.startTime(of: $0.pid) }) : nil
        switch outcome {
        case .fresh: details["state"] = "none yet"
        case .loaded: details["state"] = stale.map { "stale: \($0)" } ?? "ok"
        case .recoveredFromPrevious(let problem): details["state"] = "recovered from previous copy: \(problem)"
        case .startedOver(let problem): details["state"] = "unusable: \(problem)"
        }
        if let usage = state.usage {
            details["usage_day"] = usage.day
            details["requests_today"] = String(usage.requests)
            details["bytes_today"] = String(usage.bytesSent + usage.bytesReceived)
            details["authentications_today"] = String(usage.authentications)
        }
        details["feeds"] = state.cursors.keys.sorted().joined(separator: ",").nilIfEmpty
        if let error = state.lastError { details["last_error"] = error }
        let health = session.retained["health"].flatMap {
            try? JSONDecoder().decode(HealthReport.self, from: Data($0.utf8))
        }
        if let lag = health?.cursorLagSeconds { details["cursor_lag_seconds"] = String(lag) }
        if let error = health?.lastError { details["health_last_error"] = error }
        // Times in the state are the API's: compare them with the API's clock, not the local one.
        let offset = await session.apiClockOffsetMillis()
        let apiNow = session.clock.nowMilliseconds() + (offset ?? 0)
        if let offset { details["clock_offset_seconds"] = String(offset / 1000) }
        let damaged = Self.cursorsAhead(state, apiNow: apiNow)
        if !damaged.isEmpty { details["state"] = "damaged: " + damaged.joined(separator: "; ") }
        let pause = AuthenticationPauseFile.loadAny(path: agent.stateDir + "/auth-pause").flatMap {
            $0.untilMillis > apiNow ? $0 : nil
        }
        if let pause {
            details["authentication_paused_until"] = pause.until
            details["authentication_pause_reason"] = pause.reason
        }
        let journal = "journalctl -u \(service) -n 50"
        let paused = pause.map { "; it does not authenticate before \($0.until) (\($0.reason))" } ?? ""
        guard running else {
            let others =
                processes.others.isEmpty
                ? "" : "; other emnify-edge agents run other configurations: \(details["other_agents"] ?? "")"
            return .fail(
                "the agent for \(configPath) is not running" + (systemd.map { " (systemd: \($0))" } ?? "") + others
                    + paused,
                next: "start it: systemctl enable --now \(service); if it stops again, see \(journal)", details: details
            )
        }
        let who = processes.this.first.map { "running (pid \($0.pid))" } ?? "running (systemd active)"
        if let pause {
            return .fail(
                "\(who), but it does not authenticate before \(pause.until): \(pause.reason) (emnify locks the account "
                    + "after 3 failed logins)",
                next: "put a valid application token in place and restart the agent: a new token is tried at once",
                details: details)
        }
        if !damaged.isEmpty {
            return .warn(
                "\(who), but its state is damaged: " + damaged.joined(separator: "; "),
                next:
                    "the agent reads such a feed again from the backfill window at its next poll; if this stays, see \(journal)",
                details: details)
        }
        if let stale {
            return .warn(
                "\(who), but its state file \(stale); what it says is old"
                    + (health?.lastError.map { ". The agent reports: \($0)" } ?? ""),
                next: "check that \(agent.stateDir) is writable by the user the agent runs as; see \(journal)",
                details: details)
        }
        guard let last = state.lastSuccessfulPollMillis else {
            return .fail(
                "\(who), but it has never completed a poll" + (state.lastError.map { ": \($0)" } ?? ""),
                next: "see \(journal); the checks above show which link fails", details: details)
        }
        let age = max(0, apiNow / 1000 - last / 1000)
        details["last_successful_poll"] = UTCDateTime(secondsSinceEpoch: last / 1000).iso8601
        details["last_poll_age_seconds"] = String(age)
        let usage =
            state.usage.map { "; \($0.requests) requests, \(Self.bytes($0.bytesSent + $0.bytesReceived)) today" } ?? ""
        if let error = state.lastError ?? health?.lastError {
            return .warn(
                "\(who); the last poll failed: \(error)",
                next: "see \(journal); the checks above show which link fails",
                details: details)
        }
        if bridged {
            return .pass("\(who); last read of the API \(DurationWords.describe(age)) ago\(usage)", details: details)
        }
        if age > max(3 * poll, 300) {
            return .warn(
                "\(who), but the last successful poll was \(DurationWords.describe(age)) ago (poll interval \(poll) s)",
                next: "see \(journal)", details: details)
        }
        return .pass("\(who); last successful poll \(age) s ago\(usage)", details: details)
    }

    /// The feeds whose cursor lies ahead of the API's clock (then the agent would query windows in
    /// the future), each with by how much.
    static func cursorsAhead(_ state: AgentState, apiNow: Int64) -> [String] {
        state.cursors.sorted { $0.key < $1.key }.compactMap { key, cursor in
            let lead = cursor.lead(over: apiNow)
            guard lead > 60_000 else { return nil }
            return "the cursor of \(key) lies \(DurationWords.describe(lead / 1000)) ahead of the API's clock"
        }
    }

    static func bytes(_ count: Int) -> String {
        count < 10_000 ? "\(count) B" : count < 10_000_000 ? "\(count / 1000) kB" : "\(count / 1_000_000) MB"
    }
}
