import Foundation
import HTTPTypes
import Storage
import Tracing

/// Who does a write, as the audit triggers read it (`WriteAttribution`'s JSON).
struct AuditAttribution: Codable, Sendable, Equatable {
    var userId: String?
    var role: String?
    var address: String?
    var userAgent: String?
    var requestId: String?
    var traceId: String?
    var route: String?
    /// Set only for the retention sweep, the one writer allowed to delete entries.
    var action: String?
    /// Milliseconds since the epoch: the entry's time, from the server's (injectable) clock.
    var at: Int64

    static let userAgentLimit = 256

    init(
        userId: String? = nil, role: String? = nil, address: String? = nil, userAgent: String? = nil,
        requestId: String? = nil, traceId: String? = nil, route: String? = nil, action: String? = nil, at: Date
    ) {
        self.userId = userId
        self.role = role
        self.address = address
        // A user agent is the client's text: bounded, so a huge header cannot bloat every entry.
        self.userAgent = userAgent.map { String($0.prefix(Self.userAgentLimit)) }
        self.requestId = requestId
        self.traceId = traceId
        self.route = route
        self.action = action
        self.at = at.unixMilliseconds
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and an integer cannot fail.
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Runs `body` with this attribution on every database write it makes.
    func bound<T>(_ body: () async throws -> T) async rethrows -> T {
        try await WriteAttribution.$current.withValue(json) { try await body() }
    }

    /// The retention sweep's attribution.
    static func retention(at: Date) -> AuditAttribution {
        AuditAttribution(action: AuditSchema.retentionAction, at: at)
    }

    /// The trace id of the request: with tracing on, the active span's (so the entry opens its
    /// trace); otherwise that of a valid incoming W3C `traceparent` (so it joins the caller's), else nil.
    static func traceID(_ headers: HTTPFields, tracer: (any Tracer)?) -> String? {
        if let tracer, let current = ServiceContext.current,
            let position = HTTPTracingMiddleware.traceresponse(current, tracer: tracer)
        {
            return traceID(traceparent: position)
        }
        return headers[HTTPField.Name("traceparent")!].flatMap(traceID(traceparent:))
    }

    /// The 32 hex digits of the trace id of a valid `traceparent` value, else nil.
    static func traceID(traceparent header: String) -> String? {
        let parts = header.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16,
            parts[3].count == 2, parts.prefix(4).allSatisfy({ $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() }),
            parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16)
        else { return nil }
        // Version 00 has exactly four fields; later versions may add more.
        if parts[0] == "00" && parts.count != 4 { return nil }
        return String(parts[1])
    }
}
