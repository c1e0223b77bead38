import CSQLite
import Foundation

/// A type that can be read from a result column. `read` returns nil when the column's value
/// cannot be this type (NULL for a non-optional, or a different storage class).
public protocol SQLColumnValue {
    static func read(from statement: OpaquePointer, at index: Int32) -> Self?
}

extension Int64: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Int64? {
        guard sqlite3_column_type(statement, index) == SQLITE_INTEGER else { return nil }
        return sqlite3_column_int64(statement, index)
    }
}

extension Int: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Int? {
        Int64.read(from: statement, at: index).map(Int.init)
    }
}

extension Int32: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Int32? {
        Int64.read(from: statement, at: index).flatMap(Int32.init(exactly:))
    }
}

extension Double: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Double? {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_FLOAT, SQLITE_INTEGER: return sqlite3_column_double(statement, index)
        default: return nil
        }
    }
}

extension Bool: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Bool? {
        Int64.read(from: statement, at: index).map { $0 != 0 }
    }
}

extension String: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> String? {
        guard sqlite3_column_type(statement, index) == SQLITE_TEXT,
            let text = sqlite3_column_text(statement, index)
        else { return nil }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
}

extension Array: SQLColumnValue where Element == UInt8 {
    public static func read(from statement: OpaquePointer, at index: Int32) -> [UInt8]? {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_BLOB, SQLITE_TEXT:
            // Ask for the pointer before the size, as SQLite documents.
            let pointer = sqlite3_column_blob(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let pointer, count > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: pointer, count: count))
        default:
            return nil
        }
    }
}

extension Data: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Data? {
        [UInt8].read(from: statement, at: index).map { Data($0) }
    }
}

extension Date: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Date? {
        Int64.read(from: statement, at: index).map(Date.init(unixMilliseconds:))
    }
}

extension SQLValue: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> SQLValue? {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: return String.read(from: statement, at: index).map(SQLValue.text)
        case SQLITE_BLOB: return [UInt8].read(from: statement, at: index).map(SQLValue.blob)
        default: return .null
        }
    }
}

extension Optional: SQLColumnValue where Wrapped: SQLColumnValue {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Wrapped?? {
        if sqlite3_column_type(statement, index) == SQLITE_NULL { return .some(nil) }
        guard let value = Wrapped.read(from: statement, at: index) else { return nil }
        return .some(value)
    }
}
