import CSQLite
import Foundation

/// One SQLite connection. Not `Sendable`: a connection lives on the thread of the worker that
/// owns it (see `Database`), so nothing here needs a lock.
public final class Connection {
    public enum Mode: Sendable {
        case readWrite
        case readOnly
    }

    let handle: OpaquePointer
    public let path: String
    public let mode: Mode
    private var statementCache: [String: Statement] = [:]
    private var transactionDepth = 0
    /// What `write_attribution()` returns while a write runs (see `WriteAttribution`).
    let attributionSlot = AttributionSlot()

    public init(path: String, mode: Mode, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        if mode == .readWrite { try OwnerOnlyFiles.prepareDatabase(at: path) }
        var handle: OpaquePointer?
        // NOMUTEX: each connection is confined to one thread, so SQLite's own mutex is wasted work.
        let flags: Int32 =
            switch mode {
            case .readWrite: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
            case .readOnly: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            }
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = SQLiteError(connection: handle, code: code, sql: nil)
            sqlite3_close_v2(handle)
            throw error
        }
        self.handle = handle
        self.path = path
        self.mode = mode
        do {
            try configure(busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        } catch {
            sqlite3_close_v2(handle)
            throw error
        }
    }

    private var isClosed = false

    deinit {
        close()
    }

    /// Finalizes cached statements and closes the handle; the last connection to close removes
    /// the WAL and shared-memory files. Safe to call twice.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    private func configure(busyTimeoutMilliseconds: Int32) throws {
        sqlite3_extended_result_codes(handle, 1)
        try check(csqlite_disable_double_quoted_strings(handle), sql: "sqlite3_db_config(DQS)")
        try check(csqlite_enable_defensive(handle), sql: "sqlite3_db_config(DEFENSIVE)")
        try check(sqlite3_busy_timeout(handle, busyTimeoutMilliseconds), sql: "sqlite3_busy_timeout")
        try registerAttributionFunction()
        // Reading the schema here surfaces "file is not a database" at open, not at first use.
        try execute("PRAGMA foreign_keys = ON")
        if mode == .readWrite {
            let journal = try query("PRAGMA journal_mode = WAL") { try $0.get(0, as: String.self) }
            guard journal.first?.lowercased() == "wal" else {
                throw SQLiteError(
                    code: SQLITE_ERROR, message: "could not switch to WAL mode (got \(journal))",
                    sql: "PRAGMA journal_mode = WAL")
            }
            // NORMAL in WAL mode: a commit survives a crash of this process; only an OS crash or
            // power loss may lose the last transactions.
            try execute("PRAGMA synchronous = NORMAL")
        }
        _ = try query("SELECT count(*) FROM sqlite_schema") { try $0.get(0, as: Int64.self) }
    }

    // MARK: Statements

    /// A prepared statement from this connection's cache, prepared on first use.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let statement = statementCache[sql] { return statement }
        let statement = try Statement(connection: self, sql: sql)
        statementCache[sql] = statement
        return statement
    }

    /// Runs one or more statements without parameters (schema changes, pragmas).
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(errorMessage)
            throw SQLiteError(
                code: code, extendedCode: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    /// Runs a transaction-control statement (BEGIN, COMMIT, SAVEPOINT, …) from the statement cache:
    /// every read and write runs several of them, and `execute` would parse each one again.
    public func control(_ sql: String) throws {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        while try statement.step() {}
    }

    /// Runs a statement to completion and returns the number of rows it changed.
    @discardableResult
    public func run<each Value: SQLBindable>(_ sql: String, _ values: repeat each Value) throws -> Int {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(repeat each values)
        while try statement.step() {}
        return changes
    }

    @discardableResult
    public func run(_ sql: String, bindings: [SQLValue]) throws -> Int {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        while try statement.step() {}
        return changes
    }

    public func query<each Value: SQLBindable, T>(
        _ sql: String, _ values: repeat each Value, map: (Row) throws -> T
    ) throws -> [T] {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(repeat each values)
        var results: [T] = []
        let row = Row(statement: statement)
        while try statement.step() {
            results.append(try map(row))
        }
        return results
    }

    public func query<T>(_ sql: String, bindings: [SQLValue], map: (Row) throws -> T) throws -> [T] {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        var results: [T] = []
        let row = Row(statement: statement)
        while try statement.step() {
            results.append(try map(row))
        }
        return results
    }

    /// The first row only; the statement is reset without reading the rest.
    public func queryFirst<each Value: SQLBindable, T>(
        _ sql: String, _ values: repeat each Value, map: (Row) throws -> T
    ) throws -> T? {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(repeat each values)
        guard try statement.step() else { return nil }
        return try map(Row(statement: statement))
    }

    public func queryFirst<T>(_ sql: String, bindings: [SQLValue], map: (Row) throws -> T) throws -> T? {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        guard try statement.step() else { return nil }
        return try map(Row(statement: statement))
    }

    public var changes: Int { Int(sqlite3_changes64(handle)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Transactions

    public enum TransactionKind: String, Sendable {
        /// Takes the write lock at BEGIN, so the transaction never fails half-way with SQLITE_BUSY.
        case immediate = "IMMEDIATE"
        /// A read snapshot that starts at the first read.
        case deferred = "DEFERRED"

        var beginSQL: String {
            switch self {
            case .immediate: "BEGIN IMMEDIATE"
            case .deferred: "BEGIN DEFERRED"
            }
        }
    }

    /// Runs `body` in a transaction that commits when it returns and rolls back when it throws.
    /// Called inside another transaction it becomes a savepoint, so nesting composes.
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if transactionDepth > 0 || isInTransaction {
            return try savepoint(body)
        }
        try control(kind.beginSQL)
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try control("COMMIT")
            return result
        } catch {
            if isInTransaction { try? control("ROLLBACK") }
            throw error
        }
    }

    @discardableResult
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        transactionDepth += 1
        let name = "sp\(transactionDepth)"
        defer { transactionDepth -= 1 }
        try control("SAVEPOINT \(name)")
        do {
            let result = try body()
            try control("RELEASE \(name)")
            return result
        } catch {
            try? control("ROLLBACK TO \(name)")
            try? control("RELEASE \(name)")
            throw error
        }
    }

    // MARK: Maintenance

    /// Copies the whole database into a new file at `destination` with the online backup API;
    /// reads one snapshot, so writers on other connections carry on.
    public func backup(to destination: String) throws {
        let target = try Connection(path: destination, mode: .readWrite)
        guard let backup = sqlite3_backup_init(target.handle, "main", handle, "main") else {
            throw SQLiteError(connection: target.handle, code: sqlite3_errcode(target.handle), sql: "backup")
        }
        let stepCode = sqlite3_backup_step(backup, -1)
        let finishCode = sqlite3_backup_finish(backup)
        guard stepCode == SQLITE_DONE else {
            throw SQLiteError(code: stepCode, message: String(cString: sqlite3_errstr(stepCode)), sql: "backup")
        }
        try check(finishCode, sql: "backup")
        try target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    private func check(_ code: Int32, sql: String) throws {
        guard code == SQLITE_OK else { throw SQLiteError(connection: handle, code: code, sql: sql) }
    }
}
