import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// `/api/v1/alerts`, `/api/v1/stations/{id}/status-history` and the live event stream.
struct MonitoringController {
    let monitoring: MonitoringService
    let events: EventBus
    let heartbeatInterval: Duration

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/alerts") { request, context in
            let parameters = request.uri.queryParameters
            var validator = Validator()
            let state = validator.parse(parameters.text("state"), as: AlertState.self, field: "state")
            let severity = validator.parse(parameters.text("severity"), as: AlertSeverity.self, field: "severity")
            try validator.throwIfInvalid()
            let page = try await monitoring.alerts(
                state: state, stationID: parameters.text("stationId"), severity: severity,
                page: try PageRequest(from: parameters))
            return try jsonResponse(ListResponse(items: page.items, nextCursor: page.nextCursor))
        }
        router.post("/api/v1/alerts/{id}/acknowledge") { _, context in
            return try jsonResponse(try await monitoring.transition(try context.parameters.require("id"), to: .acknowledged))
        }
        router.post("/api/v1/alerts/{id}/resolve") { _, context in
            return try jsonResponse(try await monitoring.transition(try context.parameters.require("id"), to: .resolved))
        }
        router.get("/api/v1/stations/{id}/status-history") { request, context in
            let parameters = request.uri.queryParameters
            let limit = try PageRequest(from: parameters).limit
            let entries = try await monitoring.history(
                stationID: try context.parameters.require("id"), from: try parameters.date("from"),
                to: try parameters.date("to"), limit: parameters["limit"] == nil ? 1000 : limit)
            return try jsonResponse(["items": entries])
        }
        router.get("/api/v1/events") { request, _ in
            Self.eventStream(
                events: events, heartbeat: heartbeatInterval, stationFilter: request.uri.queryParameters.text("stationId"),
                lastEventID: request.headers[.lastEventID].flatMap { Int64($0) })
        }
    }

    /// A Server-Sent Events response: the buffered events after `lastEventID`, then live ones, with
    /// heartbeat comments between; shared by the API's stream and the dashboard's.
    static func eventStream(events: EventBus, heartbeat: Duration, stationFilter: String?, lastEventID: Int64?) -> Response {
        let (backlog, stream) = events.subscribe(after: lastEventID)
        let body = ResponseBody { writer in
            func matches(_ event: LiveEvent) -> Bool { stationFilter == nil || event.stationID == stationFilter }
            try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
            for event in backlog where matches(event) { try await writer.write(Self.frame(event)) }
            // Events and heartbeat comments interleave; the stream ends when the client goes.
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (ticks, tick) = AsyncStream.makeStream(of: LiveEvent?.self)
                group.addTask {
                    for await event in stream { tick.yield(event) }
                    tick.finish()
                }
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: heartbeat)
                        tick.yield(nil)
                    }
                }
                for await item in ticks {
                    if let event = item {
                        if matches(event) { try await writer.write(Self.frame(event)) }
                    } else {
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    }
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "keep-alive"],
            body: body)
    }

    static func frame(_ event: LiveEvent) -> ByteBuffer {
        ByteBuffer(string: "id: \(event.id)\nevent: \(event.type)\ndata: \(event.data)\n\n")
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
