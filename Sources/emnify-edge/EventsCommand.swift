import ArgumentParser
import EdgeCommon
import EdgeConfig
import EdgeReports
import EdgeRuntime
import EmnifyAPI
import Logging

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the connectivity events of this gateway's SIM and endpoint.",
        discussion: """
            Finds the SIM by the modem's ICCID, then prints the events of its endpoint and of the SIM, \
            merged and oldest first, with the fields the emnify Portal shows. emnify keeps 30 days of events.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("How far back to look, e.g. 2h or 7d (at most 30d).", valueName: "duration"))
    var since: String = "24h"

    @Option(
        name: .customLong("type"),
        help: ArgumentHelp(
            "Only this event type: a slug such as create-pdp-context, or a type id. Repeatable.", valueName: "type"))
    var types: [String] = []

    @Flag(help: "Print one JSON event per line, exactly as emnify sent it.")
    var json = false

    func validate() throws {
        let window: Duration
        do {
            window = try DurationText.parse(since)
        } catch {
            throw ValidationError("--since: \(error)")
        }
        guard window > .zero, window <= .seconds(30 * 86400) else {
            throw ValidationError("--since must be between 1s and 30d: emnify keeps events for 30 days")
        }
    }

    func run() async throws {
        try await reportingFailures {
            let context = try CommandContext(options: global)
            let window = try DurationText.parse(since)
            let iccid = try await context.parts.readICCID()
            let client = try context.parts.apiClient()

            guard let sim = try await client.findSIM(iccid: iccid) else {
                throw CommandFailure(
                    "no SIM with ICCID \(iccid) in this emnify organisation: check that the application token "
                        + "belongs to the organisation that owns the SIM")
            }
            let until = SystemWallClock().nowSeconds() + 60
            let from = until - 60 - Int64(window.components.seconds)
            if sim.endpoint == nil {
                context.logger.notice("SIM \(sim.id) is not assigned to an endpoint yet: showing the SIM's events only")
            }
            let simEvents = try await client.eventsOfSIM(sim, from: from, until: until)
            for rejected in simEvents.rejected {
                context.logger.warning("an event could not be read and is not shown: \(rejected.reason)")
            }
            let events = simEvents.events.filter { event in
                types.isEmpty || types.contains { $0 == event.typeSlug || $0 == String(event.type.id) }
            }
            if json {
                print(EventTable.jsonLines(events), terminator: "")
            } else if events.isEmpty {
                print(
                    "No events in the last \(since) for SIM \(iccid)\(sim.endpoint.map { " (endpoint \($0.name ?? String($0.id)))" } ?? "")."
                )
            } else {
                print(EventTable.render(events, nowSeconds: SystemWallClock().nowSeconds()), terminator: "")
            }
        }
    }
}
