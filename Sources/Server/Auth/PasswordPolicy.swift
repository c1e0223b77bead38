import Foundation

/// What a new password must be, for every way one is set: registration, an admin's create or
/// change, `server user add` and the first admin from configuration.
enum PasswordPolicy {
    static let minimumLength = 8
    /// bcrypt reads at most 72 bytes; a longer password would match any with the same start.
    static let maximumBytes = 72

    /// Every rule the password breaks, worded for the `password` field; empty when it is fine.
    static func problems(with password: String, email: String? = nil) -> [String] {
        // A control character (NUL above all) ends the C string bcrypt hashes, so "Secret-1\0x"
        // would equal "Secret-1" and eight NULs would equal "".
        if hasControlCharacters(password) {
            return ["must not contain control characters"]
        }
        var problems: [String] = []
        if password.count < minimumLength { problems.append("must be at least \(minimumLength) characters") }
        if password.utf8.count > maximumBytes { problems.append("must be at most \(maximumBytes) bytes (bcrypt's limit)") }
        if password.allSatisfy(\.isWhitespace) {
            problems.append("must not be blank")
        } else if isWellKnown(password) {
            problems.append("is one of the most common passwords; choose another")
        } else if let email, password.lowercased() == email.lowercased()
            || password.lowercased() == email.split(separator: "@").first.map({ $0.lowercased() })
        {
            problems.append("must not be the email address")
        }
        return problems
    }

    static func hasControlCharacters(_ password: String) -> Bool {
        password.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    static func isWellKnown(_ password: String) -> Bool {
        let folded = password.lowercased()
        // "Password1" and " password1 " are as guessable as "password1".
        return CommonPasswords.all.contains(folded)
            || CommonPasswords.all.contains(folded.trimmingCharacters(in: .whitespaces))
    }

    static func validate(_ password: String, email: String? = nil, into validator: inout Validator) {
        for problem in problems(with: password, email: email) { validator.fail("password", problem) }
    }
}
