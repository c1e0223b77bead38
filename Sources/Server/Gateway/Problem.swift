import Foundation
import Hummingbird
import Storage

/// An error meant for the client, rendered as RFC 9457 `application/problem+json`.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    /// The last part of the problem `type` URI: `/problems/{slug}`.
    var slug: String
    var title: String
    var detail: String?
    var errors: [FieldError]?
    var headers: HTTPFields = [:]

    static func badRequest(_ detail: String) -> APIError {
        APIError(status: .badRequest, slug: "bad-request", title: "Bad request", detail: detail)
    }

    static func notFound(_ detail: String) -> APIError {
        APIError(status: .notFound, slug: "not-found", title: "Not found", detail: detail)
    }

    static func conflict(_ detail: String) -> APIError {
        APIError(status: .conflict, slug: "conflict", title: "Conflict", detail: detail)
    }

    static func validation(_ errors: [FieldError], detail: String = "the request has invalid fields") -> APIError {
        APIError(
            status: .unprocessableContent, slug: "validation-error", title: "Validation failed", detail: detail,
            errors: errors)
    }

    static func validation(field: String, _ message: String) -> APIError {
        validation([FieldError(field: field, message: message)], detail: "\(field): \(message)")
    }
}

/// The body of every error response.
struct ProblemDetails: Codable, Sendable {
    var type: String
    var title: String
    var status: Int
    var detail: String?
    var instance: String?
    var requestId: String?
    var errors: [FieldError]?

    static let contentType = "application/problem+json"
}

/// Collects field errors so a handler reports every bad field at once.
struct Validator {
    private(set) var errors: [FieldError] = []

    mutating func check(_ condition: Bool, _ field: String, _ message: @autoclosure () -> String) {
        if !condition { errors.append(FieldError(field: field, message: message())) }
    }

    mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    func throwIfInvalid() throws {
        if !errors.isEmpty { throw APIError.validation(errors) }
    }
}

extension Validator {
    /// Parses a raw enum value, recording "must be one of …" when it is not one.
    mutating func parse<T: RawRepresentable & CaseIterable>(_ raw: String?, as type: T.Type, field: String) -> T?
    where T.RawValue == String {
        guard let raw else { return nil }
        guard let value = T(rawValue: raw) else {
            fail(field, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    mutating func text(_ value: String?, _ field: String, length: ClosedRange<Int>) {
        guard let value else { return }
        check(length.contains(value.count), field, "must be \(length.lowerBound)–\(length.upperBound) characters")
    }
}

/// A PATCH field: absent (leave as is), or present with a value or an explicit null (clear it).
enum FieldUpdate<Value: Sendable>: Sendable {
    case unchanged
    case set(Value?)

    var newValue: Value?? {
        if case .set(let value) = self { return .some(value) }
        return nil
    }

    func apply(to target: inout Value?) {
        if case .set(let value) = self { target = value }
    }
}

extension KeyedDecodingContainer {
    func update<T: Decodable & Sendable>(_ type: T.Type, forKey key: Key) throws -> FieldUpdate<T> {
        guard contains(key) else { return .unchanged }
        if try decodeNil(forKey: key) { return .set(nil) }
        return .set(try decode(T.self, forKey: key))
    }
}
