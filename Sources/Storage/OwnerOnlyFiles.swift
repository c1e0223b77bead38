import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The database holds password hashes, id tags and charger credentials, so its files are the
/// owner's alone: 0600 for files, 0700 for the directory holding them.
public enum OwnerOnlyFiles {
    /// Removes the group and other permission bits of `path` if this process owns it; a file owned
    /// by someone else is left as it is (only its owner could change it). Missing paths are fine.
    public static func restrict(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw FileAccessError(operation: "stat", path: path, code: errno)
        }
        let permissions = info.st_mode & 0o7777
        guard info.st_uid == geteuid(), permissions & 0o077 != 0 else { return }
        guard chmod(path, permissions & ~0o077) == 0 else {
            throw FileAccessError(operation: "chmod", path: path, code: errno)
        }
    }

    /// Makes sure the database at `path` and its WAL and shared-memory files are owner-only. SQLite
    /// creates a new database with 0644 (less the umask) and gives the WAL and shared-memory files the
    /// database's mode, so the database is created here first, empty, which SQLite takes as new.
    static func prepareDatabase(at path: String) throws {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileAccessError(operation: "create", path: path, code: errno) }
        close(descriptor)
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] {
            try restrict(file)
        }
    }
}

/// A file-system call on one of the database's files failed.
public struct FileAccessError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public var description: String { "\(operation) \(path) failed: \(String(cString: strerror(code)))" }
}
