import Foundation
import Storage

/// Creating and changing accounts: the one place a password is checked against the policy and
/// hashed. Needs only the database, so that `server user add` uses it without starting a server.
struct AccountService: Sendable {
    let users: UserRepository
    let hasher: PasswordHasher
    let now: @Sendable () -> Date

    /// Every bad field at once: email, password (the policy) and name.
    static func validate(email: String, password: String, name: String) throws {
        var validator = Validator()
        validator.check(EmailAddress.isValid(email), "email", "must be an email address")
        PasswordPolicy.validate(password, email: email, into: &validator)
        validator.text(name, "name", length: 1...200)
        if !validator.errors.isEmpty { throw AuthError.invalid(validator.errors) }
    }

    /// A new account of `role`; a driver also gets a driver profile (its id is returned).
    func create(email: String, password: String, name: String, role: Role) async throws -> (User, Driver?) {
        try Self.validate(email: email, password: password, name: name)
        let hash = try await hasher.hash(password)
        let user = User(id: Identifiers.make(), email: email, name: name, role: role, passwordHash: hash, now: now())
        return try await users.insert(user)
    }

    /// An admin's change to an account; a new password must pass the policy.
    func update(
        _ id: String, version: Int64?, name: String?, role: Role?, status: UserStatus?, password: String?
    ) async throws -> User {
        if let password {
            var validator = Validator()
            PasswordPolicy.validate(password, into: &validator)
            if !validator.errors.isEmpty { throw AuthError.invalid(validator.errors) }
        }
        let hash = try await password.asyncFlatMap { try await hasher.hash($0) }
        return try await users.update(
            id, .init(version: version, name: name, role: role, status: status, passwordHash: hash), at: now())
    }
}
