import CSQLite

/// An error reported by SQLite, with everything needed to tell what failed and why.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// Primary result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, …).
    public let code: Int32
    /// Extended result code (`SQLITE_CONSTRAINT_UNIQUE`, …).
    public let extendedCode: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code & 0xFF
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    init(connection handle: OpaquePointer?, code: Int32, sql: String?) {
        let extended = handle.map { sqlite3_extended_errcode($0) } ?? code
        let message = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(code))
        self.init(code: code, extendedCode: extended, message: message, sql: sql)
    }

    /// What kind of failure this is, for callers that map errors to a response.
    public enum Kind: Sendable, Equatable {
        case uniqueViolation
        case foreignKeyViolation
        case notNullViolation
        case checkViolation
        case otherConstraint
        case busy
        case notADatabase
        case corrupt
        case readOnly
        /// The disk, or the database's configured page limit, is full.
        case full
        case other
    }

    public var kind: Kind {
        switch extendedCode {
        case 2067, 1555: return .uniqueViolation  // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
        case 787: return .foreignKeyViolation  // SQLITE_CONSTRAINT_FOREIGNKEY
        case 1299: return .notNullViolation  // SQLITE_CONSTRAINT_NOTNULL
        case 275: return .checkViolation  // SQLITE_CONSTRAINT_CHECK
        default: break
        }
        switch code {
        case SQLITE_CONSTRAINT: return .otherConstraint
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_NOTADB: return .notADatabase
        case SQLITE_CORRUPT: return .corrupt
        case SQLITE_READONLY: return .readOnly
        case SQLITE_FULL: return .full
        default: return .other
        }
    }

    public var description: String {
        var text = "SQLite error \(code) (extended \(extendedCode)): \(message)"
        if let sql { text += " — in: \(sql)" }
        return text
    }
}

/// A column could not be read as the type asked for (missing column, NULL, or wrong storage class).
public struct RowDecodingError: Error, Sendable, CustomStringConvertible {
    public let column: String
    public let expectedType: String
    public let sql: String

    public init(column: String, expectedType: String, sql: String) {
        self.column = column
        self.expectedType = expectedType
        self.sql = sql
    }

    public var description: String {
        "column '\(column)' cannot be read as \(expectedType) in: \(sql)"
    }
}
