import ArgumentParser
import EdgeCommon
import EdgeConfig
import EdgeReports
import EdgeRuntime
import EmnifyAPI
import FoundationEssentials
import Logging

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the connectivity events of this gateway's SIM and endpoint, or of the organisation.",
        discussion: """
            Finds the SIM by the modem's ICCID, then prints the events of its endpoint and of the SIM, \
            merged and oldest first, with the fields the emnify Portal shows. emnify keeps 30 days of events. \
            --org shows the whole organisation's events instead (no modem needed), --user one user's; \
            --summary counts them per type and severity and names the SIMs with the most warnings.
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

    @Flag(help: "The organisation's events (GET /api/v1/event) instead of this gateway's.")
    var org = false

    @Option(help: ArgumentHelp("The events of this user of the organisation.", valueName: "user id"))
    var user: Int64?

    @Flag(help: "Counts per event type and severity, and the SIMs with the most warnings (with --org or --user).")
    var summary = false

    @Flag(help: "List the event types the API knows (GET /api/v1/event/type) and their topic slugs.")
    var listTypes = false

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
        if org && user != nil { throw ValidationError("--org and --user are two scopes: choose one") }
        if summary && !org && user == nil {
            throw ValidationError("--summary needs --org or --user (a gateway's own events fit in the table)")
        }
        if summary && json { throw ValidationError("--summary and --json: choose one") }
    }

    func run() async throws {
        try await reportingFailures {
            let context = try CommandContext(options: global)
            let window = try DurationText.parse(since)
            if listTypes { return try await printTypes(context) }
            if org || user != nil { return try await printScope(context, window: window) }
            let iccid = try await context.parts.readICCID()
            let client = try context.parts.apiClient()

            guard let sim = try await client.findSIM(iccid: iccid) else {
                throw CommandFailure(
                    "no SIM with ICCID \(iccid) in this emnify organisation: check that the application token "
                        + "belongs to the organisation that owns the SIM")
            }
            let (from, until) = Self.window(window)
            if sim.endpoint == nil {
                context.logger.notice("SIM \(sim.id) is not assigned to an endpoint yet: showing the SIM's events only")
            }
            let simEvents = try await client.eventsOfSIM(sim, from: from, until: until)
            for rejected in simEvents.rejected {
                context.logger.warning("an event could not be read and is not shown: \(rejected.reason)")
            }
            let events = simEvents.events.filter(selected)
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

    private func printTypes(_ context: CommandContext) async throws {
        let types = try await context.parts.apiClient().eventTypes().sorted { $0.id < $1.id }
        if json {
            struct Line: Encodable {
                var id: Int
                var description: String?
                var slug: String
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for type in types {
                let line = Line(
                    id: type.id, description: type.description,
                    slug: EventTypeCatalog.slug(typeID: type.id, description: type.description))
                print(String(decoding: try encoder.encode(line), as: UTF8.self))
            }
            return
        }
        let rows = types.map {
            [String($0.id), $0.description ?? "-", EventTypeCatalog.slug(typeID: $0.id, description: $0.description)]
        }
        print(TextTable.render(header: ["ID", "EVENT TYPE", "TOPIC SLUG"], rows: rows), terminator: "")
    }

    /// The organisation's or a user's events, page by page: a month of a fleet's events is not held at once.
    private func printScope(_ context: CommandContext, window: Duration) async throws {
        let client = try context.parts.apiClient()
        let feed: EventFeed = user.map { .user($0) } ?? .organisation
        let (from, until) = Self.window(window)
        var summary = EventSummary()
        var shown = 0
        var unreadable = 0
        try await client.eachEventPage(feed, from: from, until: until, perPage: 1000, maxPages: 100_000) { page in
            unreadable += page.rejected.count
            let events = page.events.filter(selected)
            shown += events.count
            if self.summary {
                summary.add(events)
            } else if json {
                print(EventTable.jsonLines(events), terminator: "")
            } else if !events.isEmpty {
                print(EventTable.render(events, nowSeconds: SystemWallClock().nowSeconds()), terminator: "")
            }
        }
        if unreadable > 0 { context.logger.warning("\(unreadable) events could not be read and are not shown") }
        if self.summary {
            print(summary.render(window: since), terminator: "")
        } else if shown == 0 && !json {
            print("No events in the last \(since) for \(feed).")
        }
    }

    /// The last `window`, a minute into the future (the gateway's clock may be behind the API's).
    static func window(_ window: Duration) -> (from: Int64, until: Int64) {
        let until = SystemWallClock().nowSeconds() + 60
        return (until - 60 - Int64(window.components.seconds), until)
    }

    /// `--type`: by slug or type id; no `--type` shows every event.
    func selected(_ event: EmnifyEvent) -> Bool {
        types.isEmpty || types.contains { $0 == event.typeSlug || $0 == String(event.type.id) }
    }
}
