import CSQLite

extension Connection {
    /// Inserts `rows` into `table`, many rows per statement (`INSERT … VALUES (…), (…), …`): a
    /// statement per row costs a step, a reset and a round of bindings each, most of what a small
    /// row costs. `bind` binds one row's values in the order of `columns`.
    public func insert<Element>(
        into table: String, columns: [String], _ rows: some Collection<Element>,
        bind: (Element, inout RowBinder) -> Void
    ) throws {
        let rowsPerStatement = max(1, min(Self.rowsPerInsert, Self.parameterLimit / max(1, columns.count)))
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        func sql(_ count: Int) -> String {
            head + Array(repeating: tuple, count: count).joined(separator: ", ")
        }
        let full = rows.count >= rowsPerStatement ? sql(rowsPerStatement) : ""
        var start = rows.startIndex
        while start != rows.endIndex {
            let end = rows.index(start, offsetBy: rowsPerStatement, limitedBy: rows.endIndex) ?? rows.endIndex
            let count = rows.distance(from: start, to: end)
            let statement = try cachedStatement(count == rowsPerStatement ? full : sql(count))
            defer { statement.reset() }
            var binder = RowBinder(statement: statement.handle)
            for row in rows[start..<end] { bind(row, &binder) }
            if let code = binder.failure {
                throw SQLiteError(connection: handle, code: code, sql: statement.sql)
            }
            guard binder.index == statement.parameterCount else {
                throw SQLiteError(
                    code: SQLITE_RANGE,
                    message: "statement has \(statement.parameterCount) parameters but \(binder.index) values were bound",
                    sql: statement.sql)
            }
            while try statement.step() {}
            start = end
        }
    }

    static let rowsPerInsert = 32
    /// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` since 3.32.
    static let parameterLimit = 32_766
}

/// Binds the values of the rows of a multi-row insert, in order.
public struct RowBinder {
    @usableFromInline let statement: OpaquePointer
    @usableFromInline var index: Int32 = 0
    @usableFromInline var failure: Int32?

    init(statement: OpaquePointer) {
        self.statement = statement
    }

    @inlinable
    public mutating func bind(_ value: some SQLBindable) {
        index += 1
        let code = value.bind(to: statement, at: index)
        if code != 0 /* SQLITE_OK */, failure == nil { failure = code }
    }
}
