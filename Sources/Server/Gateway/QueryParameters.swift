import Foundation
import Hummingbird

extension Parameters {
    /// An ISO 8601 date-time from the query string; 422 naming the parameter when malformed.
    func date(_ name: String) throws -> Date? {
        guard let raw = self[Substring(name)] else { return nil }
        guard let date = ISO8601Timestamp.parse(String(raw)) else {
            throw APIError.validation(field: name, "must be an ISO 8601 date-time such as 2026-01-31T10:00:00Z")
        }
        return date
    }

    func text(_ name: String) -> String? {
        self[Substring(name)].map(String.init)
    }
}
