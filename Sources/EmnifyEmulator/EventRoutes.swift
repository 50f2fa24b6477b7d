import HTTPTypes
import Hummingbird

/// The event feeds (`GET /api/v1/event` of the whole organisation, `/api/v1/endpoint/{id}/event`,
/// `/api/v1/sim/{id}/event`, `/api/v1/user/{id}/event`) with paging, sorting, filters and ETags,
/// and the catalogue `GET /api/v1/event/type`.
struct EventRoutes {
    let state: EmulatorState

    var collection: RouteCollection<EmulatorContext> {
        let routes = RouteCollection(context: EmulatorContext.self)
        routes.get("event") { request, _ in feed(.organisation, request) }
        routes.get("event/type") { _, _ in types() }
        routes.get("endpoint/{id}/event") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                return Response.message(400, "endpoint_id must be a number")
            }
            return feed(.endpoint(id), request)
        }
        routes.get("sim/{id}/event") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                return Response.message(400, "sim_id must be a number")
            }
            return feed(.sim(id), request)
        }
        routes.get("user/{id}/event") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                return Response.message(400, "user_id must be a number")
            }
            return feed(.user(id), request)
        }
        return routes
    }

    private func types() -> Response {
        let items = EventCatalog.types.map {
            JSONValue.object([("id", .int(Int64($0.0))), ("description", .string($0.1))])
        }
        return .json(200, JSONValue.array(items).rendered)
    }

    private func feed(_ feed: EventQuery.Feed, _ request: Request) -> Response {
        var query: EventQuery
        do {
            query = try EventQuery(parameters: request.queryDictionary)
        } catch {
            return .message(error.status, error.message)
        }
        let userID = state.identity.userID
        let seed = state.configuration.seed
        // Select under the lock (a copy of the matching records), render outside it.
        let (fleet, matching) = state.withLock { inner in
            let scope = query.resolve(feed, in: inner.fleet)
            return (inner.fleet, inner.store.events.filter { query.matches($0, scope: scope, userID: userID) })
        }
        var selected = matching
        // The store is mostly in time order already: checking is linear, sorting is not.
        if !query.isDefaultOrder, zip(selected, selected.dropFirst()).contains(where: { query.ordered($1, $0) }) {
            selected.sort(by: query.ordered)
        }
        let total = selected.count
        var start = min(total, (query.page - 1) * query.perPage)
        if start == total, total > 0, feed.repeatsLastPage { start = (total - 1) / query.perPage * query.perPage }
        let end = min(total, start + query.perPage)
        var body = "["
        body.reserveCapacity((end - start) * 1_300 + 2)  // a generated event is about 1.2 KB
        for (index, event) in selected[start..<end].enumerated() {
            if index > 0 { body += "," }
            body += event.json(identity: fleet.member(Int(event.simIndex)), seed: seed)
        }
        body += "]"
        var headers = Response.pagingHeaders(
            total: total, page: query.page, perPage: query.perPage, sort: query.sortText)
        headers[.contentType] = "application/json; charset=utf-8"
        let etag = Response.weakETag(body)
        headers[.eTag] = etag
        headers[HTTPField.Name("link")!] = ""
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { trimmed($0) == etag })
        {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return .json(200, body, headers: headers)
    }

    private func trimmed(_ text: Substring) -> Substring {
        var value = text
        while let first = value.first, first.isWhitespace { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }
        return value
    }
}
