/// One bad field of an input, named by its JSON path.
struct FieldError: Codable, Sendable, Equatable {
    var field: String
    var message: String
}

/// What kind of failure a feature's error is, in domain terms. Services and repositories raise
/// their feature's own error type (`SessionError`, `StationError`, …) conforming to `DomainError`;
/// only the gateway (`ProblemMiddleware`) turns the kind into an HTTP status, and only the OCPP
/// layer into a CALLERROR or an answer. Nothing below the controllers knows about HTTP.
enum DomainErrorKind: Sendable, Equatable {
    /// The thing asked for does not exist (or is not the caller's to see).
    case notFound
    /// The input breaks a rule; `fields` names what is wrong.
    case invalid
    /// The input is fine but the current state does not allow it (duplicate, wrong status, stale version).
    case conflict
    /// The caller may not do this.
    case forbidden
    /// Too many attempts; try again after this many seconds.
    case rateLimited(retryAfterSeconds: Int)
    /// A dependency (a charger, the disk) cannot do it now; the request may be retried later.
    case unavailable
    /// The storage is out of space: nothing was written.
    case insufficientStorage
}

protocol DomainError: Error, Sendable, CustomStringConvertible {
    var kind: DomainErrorKind { get }
    /// The bad fields, for `.invalid`; empty otherwise.
    var fields: [FieldError] { get }
}

extension DomainError {
    var fields: [FieldError] { [] }
}

/// Input that broke a rule, for features whose only failure is "this field is wrong".
struct InvalidInput: DomainError {
    var fields: [FieldError]
    var kind: DomainErrorKind { .invalid }
    var description: String { fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ") }

    init(_ fields: [FieldError]) {
        self.fields = fields
    }

    init(field: String, _ message: String) {
        self.fields = [FieldError(field: field, message: message)]
    }
}
