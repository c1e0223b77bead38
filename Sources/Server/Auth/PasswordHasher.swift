import HummingbirdBcrypt
import NIOPosix

/// bcrypt, run on NIO's blocking thread pool: a hash takes tens of milliseconds of CPU, which
/// must not stall an event loop or the cooperative pool.
struct PasswordHasher: Sendable {
    let cost: UInt8

    func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        // bcrypt stops at the first NUL, so "" matches a hash of eight NULs and "Secret-1\0x" one of
        // "Secret-1". No valid password is empty or has a control character; such a guess never
        // matches, whatever an older version stored. The time is still spent, so it reveals nothing.
        let comparable = !password.isEmpty && !PasswordPolicy.hasControlCharacters(password)
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        return comparable && matches
    }
}
