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
        // bcrypt stops at the first NUL: "" would match a hash of "\0\0\0\0\0\0\0\0" stored before
        // the policy refused such passwords. Still spend the time, so the answer reveals nothing.
        let comparable = !password.utf8.contains(0)
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        return comparable && matches
    }
}
