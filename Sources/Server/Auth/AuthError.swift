/// Why an account operation failed, in domain terms; the gateway maps the kind to HTTP.
enum AuthError: DomainError, Equatable {
    case emailTaken
    case invalid([FieldError])
    case userNotFound(String)
    case lastAdmin
    case throttled(retryAfterSeconds: Int)
    /// The login's email or password is wrong (the same answer for both); the auth controller
    /// answers it with 401.
    case invalidCredentials
    case refreshTokenReused
    case refreshTokenExpired
    case refreshTokenUnknown
    case accountDisabled

    var kind: DomainErrorKind {
        switch self {
        case .emailTaken, .lastAdmin: .conflict
        case .invalid: .invalid
        case .userNotFound: .notFound
        case .throttled(let seconds): .rateLimited(retryAfterSeconds: seconds)
        // Answered with 401 by `AuthController`; forbidden is the safe kind should one escape it.
        case .invalidCredentials, .refreshTokenReused, .refreshTokenExpired, .refreshTokenUnknown, .accountDisabled:
            .forbidden
        }
    }

    var fields: [FieldError] {
        if case .invalid(let fields) = self { return fields }
        return []
    }

    var description: String {
        switch self {
        case .emailTaken: "an account with this email already exists"
        case .invalid(let fields): fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        case .userNotFound(let id): "no user \(id)"
        case .lastAdmin: "this is the last active admin; create another admin first"
        case .throttled(let seconds): "too many failed logins for this email; try again in \(seconds) s"
        case .invalidCredentials: "the email or password is wrong"
        case .refreshTokenReused: "this refresh token was already used; every session of that login is revoked"
        case .refreshTokenExpired: "the refresh token has expired"
        case .refreshTokenUnknown: "the refresh token is not valid"
        case .accountDisabled: "the account is disabled"
        }
    }
}
