import Foundation
import Hummingbird
import Storage

/// One bad field of a request, named by its JSON path.
struct FieldError: Codable, Sendable, Equatable {
    var field: String
    var message: String
}

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
