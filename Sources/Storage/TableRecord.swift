import Foundation

/// How an entity maps to a table. The table has `id` (primary key), `version` and `columns`.
public protocol TableRecord: Entity {
    static var tableName: String { get }
    /// The stored columns other than `id` and `version`, in the order of `columnValues`.
    static var columns: [String] { get }
    /// Columns a listing may be sorted by. Each must be NOT NULL, which keyset paging relies on.
    static var sortableColumns: [String] { get }
    static var defaultSort: SortKey { get }

    var columnValues: [SQLValue] { get }
    init(row: Row) throws
}

/// The synchronous table operations, for use inside a transaction that spans several of them.
/// `SQLiteRepository` wraps them in the database's writer and readers.
public enum TableStore<Record: TableRecord> {
    static var insertSQL: String {
        let names = ["id", "version"] + Record.columns
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        return "INSERT INTO \(Record.tableName) (\(names.joined(separator: ", "))) VALUES (\(placeholders))"
    }

    static var updateSQL: String {
        let assignments = Record.columns.map { "\($0) = ?" }.joined(separator: ", ")
        return "UPDATE \(Record.tableName) SET \(assignments), version = version + 1 WHERE id = ? AND version = ?"
    }

    public static func insert(_ record: Record, into connection: Connection) throws -> Record {
        var stored = record
        stored.version = 1
        try connection.run(insertSQL, bindings: [record.id.sqlValue, .integer(1)] + record.columnValues)
        return stored
    }

    public static func fetch(_ id: Record.ID, from connection: Connection) throws -> Record? {
        try connection.queryFirst("SELECT * FROM \(Record.tableName) WHERE id = ?", id) { try Record(row: $0) }
    }

    public static func update(_ record: Record, expectedVersion: Int64, in connection: Connection) throws -> Record {
        let changed = try connection.run(
            updateSQL, bindings: record.columnValues + [record.id.sqlValue, .integer(expectedVersion)])
        if changed == 0 {
            let current = try connection.queryFirst(
                "SELECT version FROM \(Record.tableName) WHERE id = ?", record.id
            ) { try $0.get(0, as: Int64.self) }
            guard let current else {
                throw RecordNotFoundError(table: Record.tableName, id: "\(record.id)")
            }
            throw VersionConflictError(
                table: Record.tableName, id: "\(record.id)", expectedVersion: expectedVersion,
                currentVersion: current)
        }
        var stored = record
        stored.version = expectedVersion + 1
        return stored
    }

    public static func delete(_ id: Record.ID, from connection: Connection) throws -> Bool {
        try connection.run("DELETE FROM \(Record.tableName) WHERE id = ?", id) > 0
    }

    public static func count(where filter: QueryFilter, in connection: Connection) throws -> Int {
        try connection.queryFirst(
            "SELECT count(*) FROM \(Record.tableName) WHERE \(filter.sql)", bindings: filter.values
        ) { try $0.get(0, as: Int.self) } ?? 0
    }

    /// Keyset pagination on (sort column, id): stable when rows are inserted or deleted between
    /// pages, and each page costs an index seek rather than an OFFSET scan.
    public static func list(
        where filter: QueryFilter, sort: SortKey?, page: PageRequest, in connection: Connection
    ) throws -> Page<Record> {
        let sort = sort ?? Record.defaultSort
        guard sort.column == "id" || Record.sortableColumns.contains(sort.column) else {
            throw InvalidSortError(column: sort.column, allowed: ["id"] + Record.sortableColumns)
        }
        var clauses = filter.sql
        var bindings = filter.values
        let comparison = sort.descending ? "<" : ">"
        if let token = page.cursor {
            let cursor = try PageCursor.decode(token, expecting: sort)
            if sort.column == "id" {
                clauses += " AND id \(comparison) ?"
                bindings.append(cursor.id)
            } else {
                clauses += " AND (\(sort.column) \(comparison) ? OR (\(sort.column) = ? AND id \(comparison) ?))"
                bindings += [cursor.sortValue, cursor.sortValue, cursor.id]
            }
        }
        let direction = sort.descending ? "DESC" : "ASC"
        let order = sort.column == "id" ? "id \(direction)" : "\(sort.column) \(direction), id \(direction)"
        bindings.append(.integer(Int64(page.limit + 1)))
        let sql = "SELECT * FROM \(Record.tableName) WHERE \(clauses) ORDER BY \(order) LIMIT ?"
        var sortValues: [SQLValue] = []
        var records = try connection.query(sql, bindings: bindings) { row in
            sortValues.append(try row.get(sort.column, as: SQLValue.self))
            return try Record(row: row)
        }
        var nextCursor: String?
        if records.count > page.limit {
            records.removeLast()
            let last = records[records.count - 1]
            nextCursor = try PageCursor(sort: sort, sortValue: sortValues[records.count - 1], id: last.id.sqlValue)
                .encoded()
        }
        return Page(items: records, nextCursor: nextCursor)
    }
}

/// The position after the last item of a page. Opaque to clients (base64url JSON); it names the
/// sort it belongs to so that a cursor is never applied to a different ordering.
struct PageCursor: Codable {
    var sort: SortKey
    var sortValue: SQLValue
    var id: SQLValue

    func encoded() throws -> String {
        try JSONEncoder().encode(self).base64URLEncodedString()
    }

    static func decode(_ token: String, expecting sort: SortKey) throws -> PageCursor {
        guard let data = Data(base64URLEncoded: token),
            let cursor = try? JSONDecoder().decode(PageCursor.self, from: data),
            cursor.sort == sort
        else { throw InvalidCursorError() }
        return cursor
    }
}

extension Data {
    public func base64URLEncodedString() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}

/// The generic repository over the database's writer and readers.
public struct SQLiteRepository<Record: TableRecord>: Repository {
    public typealias Item = Record
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ item: Record) async throws -> Record {
        try await database.write { try TableStore<Record>.insert(item, into: $0) }
    }

    public func get(_ id: Record.ID) async throws -> Record? {
        try await database.read { try TableStore<Record>.fetch(id, from: $0) }
    }

    public func update(_ item: Record, expectedVersion: Int64) async throws -> Record {
        try await database.write { try TableStore<Record>.update(item, expectedVersion: expectedVersion, in: $0) }
    }

    public func delete(_ id: Record.ID) async throws -> Bool {
        try await database.write { try TableStore<Record>.delete(id, from: $0) }
    }

    public func count(where filter: QueryFilter) async throws -> Int {
        try await database.read { try TableStore<Record>.count(where: filter, in: $0) }
    }

    public func list(where filter: QueryFilter, sort: SortKey?, page: PageRequest) async throws -> Page<Record> {
        try await database.read { try TableStore<Record>.list(where: filter, sort: sort, page: page, in: $0) }
    }
}
