import CSQLite

/// A prepared statement. Owned by one connection, used on that connection's thread only; reset
/// after every use so that a half-read statement never pins a read transaction (which would block
/// WAL checkpoints).
public final class Statement {
    let handle: OpaquePointer
    public let sql: String
    private unowned let connection: Connection
    /// Result column names, read on first use.
    private var columnNames: [String]?
    /// Where the last name lookup ended: rows are read column after column, so the next name asked
    /// for is nearly always there — no hashing per column read.
    private var nextColumn = 0

    init(connection: Connection, sql: String) throws {
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v3(
            connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard code == SQLITE_OK, let handle else {
            sqlite3_finalize(handle)
            throw SQLiteError(connection: connection.handle, code: code, sql: sql)
        }
        self.handle = handle
        self.sql = sql
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
    }

    public var parameterCount: Int32 { sqlite3_bind_parameter_count(handle) }

    public func bind<each Value: SQLBindable>(_ values: repeat each Value) throws {
        var index: Int32 = 0
        for value in repeat each values {
            index += 1
            try check(value.bind(to: handle, at: index))
        }
        try checkParameterCount(index)
    }

    public func bind(_ values: [SQLValue]) throws {
        for (offset, value) in values.enumerated() {
            try check(value.bind(to: handle, at: Int32(offset + 1)))
        }
        try checkParameterCount(Int32(values.count))
    }

    private func checkParameterCount(_ bound: Int32) throws {
        guard bound == parameterCount else {
            throw SQLiteError(
                code: SQLITE_RANGE,
                message: "statement has \(parameterCount) parameters but \(bound) values were bound",
                sql: sql)
        }
    }

    /// Advances to the next row; false when the statement is done.
    public func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw SQLiteError(connection: connection.handle, code: code, sql: sql)
        }
    }

    /// Makes the statement reusable and releases any read lock it holds.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func columnIndex(named name: String) -> Int32? {
        let names = columnNames ?? readColumnNames()
        var index = nextColumn < names.count ? nextColumn : 0
        for _ in 0..<names.count {
            if names[index] == name {
                nextColumn = index + 1
                return Int32(index)
            }
            index = index + 1 == names.count ? 0 : index + 1
        }
        return nil
    }

    private func readColumnNames() -> [String] {
        let names = (0..<sqlite3_column_count(handle)).map { index in
            sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
        }
        columnNames = names
        return names
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else {
            throw SQLiteError(connection: connection.handle, code: code, sql: sql)
        }
    }
}

/// The current row of a statement being stepped. Valid only inside the closure it is handed to.
public struct Row {
    let statement: Statement

    public func get<T: SQLColumnValue>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let index = statement.columnIndex(named: column),
            let value = T.read(from: statement.handle, at: index)
        else {
            throw RowDecodingError(column: column, expectedType: "\(T.self)", sql: statement.sql)
        }
        return value
    }

    public func get<T: SQLColumnValue>(_ index: Int32, as type: T.Type = T.self) throws -> T {
        guard index < sqlite3_column_count(statement.handle),
            let value = T.read(from: statement.handle, at: index)
        else {
            throw RowDecodingError(column: "#\(index)", expectedType: "\(T.self)", sql: statement.sql)
        }
        return value
    }

}
