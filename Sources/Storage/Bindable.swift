import CSQLite
import Foundation

/// A value that can be bound to a statement parameter.
///
/// Dates are stored as INTEGER milliseconds since the Unix epoch (UTC): they sort and compare
/// as numbers, and range queries use the index.
public protocol SQLBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

/// A dynamically typed SQL value, for queries whose parameters are assembled at run time.
public enum SQLValue: Sendable, Hashable, SQLBindable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .null: return sqlite3_bind_null(statement, index)
        case .integer(let value): return value.bind(to: statement, at: index)
        case .real(let value): return value.bind(to: statement, at: index)
        case .text(let value): return value.bind(to: statement, at: index)
        case .blob(let value): return value.bind(to: statement, at: index)
        }
    }
}

extension Int64: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, self)
    }
}

extension Int: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, Int64(self))
    }
}

extension Int32: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, Int64(self))
    }
}

extension Double: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_double(statement, index, self)
    }
}

extension Bool: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, self ? 1 : 0)
    }
}

extension String: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var copy = self
        return copy.withUTF8 { bytes in
            // An empty buffer may have no base address, and a NULL pointer would bind SQL NULL.
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite3_bind_text(statement, index, "", 0, csqlite_transient())
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(statement, index, $0, Int32(bytes.count), csqlite_transient())
            }
        }
    }
}

extension Substring: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        String(self).bind(to: statement, at: index)
    }
}

extension Array: SQLBindable where Element == UInt8 {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite3_bind_zeroblob(statement, index, 0)
            }
            return sqlite3_bind_blob(statement, index, base, Int32(bytes.count), csqlite_transient())
        }
    }
}

extension Data: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite3_bind_zeroblob(statement, index, 0)
            }
            return sqlite3_bind_blob(statement, index, base, Int32(bytes.count), csqlite_transient())
        }
    }
}

extension Date: SQLBindable {
    /// Milliseconds since the epoch, rounded down, so that ordering is preserved.
    public var unixMilliseconds: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded(.down))
    }

    public init(unixMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(unixMilliseconds) / 1000)
    }

    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, unixMilliseconds)
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .none: return sqlite3_bind_null(statement, index)
        case .some(let value): return value.bind(to: statement, at: index)
        }
    }
}
