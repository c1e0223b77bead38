import Foundation

/// A stored entity: identified, and versioned for optimistic concurrency.
public protocol Entity: Sendable {
    associatedtype ID: SQLValueConvertible & Hashable
    var id: ID { get }
    /// Incremented by every update; an update names the version it read.
    var version: Int64 { get set }
}

/// The operations every repository offers. Entity-specific repositories add their own queries.
public protocol Repository<Item>: Sendable {
    associatedtype Item: Entity

    func create(_ item: Item) async throws -> Item
    func get(_ id: Item.ID) async throws -> Item?
    /// Saves `item` if the stored version is still `expectedVersion`; returns it with its new version.
    /// Throws `RecordNotFoundError` or `VersionConflictError`.
    func update(_ item: Item, expectedVersion: Int64) async throws -> Item
    /// True when a row was deleted.
    func delete(_ id: Item.ID) async throws -> Bool
    func count(where filter: QueryFilter) async throws -> Int
    func list(where filter: QueryFilter, sort: SortKey?, page: PageRequest) async throws -> Page<Item>
}

/// One page of a listing, and the opaque cursor of the next one (nil on the last page).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    public func map<T>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), nextCursor: nextCursor)
    }
}

public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maximumLimit = 200

    public var limit: Int
    public var cursor: String?

    public init(limit: Int = PageRequest.defaultLimit, cursor: String? = nil) {
        self.limit = min(max(1, limit), PageRequest.maximumLimit)
        self.cursor = cursor
    }
}

public struct SortKey: Sendable, Equatable, Codable {
    public var column: String
    public var descending: Bool

    public init(_ column: String, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }
}

/// WHERE clauses built by code (never from user text) with their bound values.
public struct QueryFilter: Sendable {
    public private(set) var clauses: [String] = []
    public private(set) var values: [SQLValue] = []

    public static var all: QueryFilter { QueryFilter() }

    public init() {}

    /// Adds a clause with `?` placeholders, one per value.
    public mutating func add(_ clause: String, _ values: SQLValue...) {
        add(clause, values)
    }

    public mutating func add(_ clause: String, _ values: [SQLValue]) {
        precondition(clause.filter { $0 == "?" }.count == values.count, "placeholders must match values")
        clauses.append("(\(clause))")
        self.values.append(contentsOf: values)
    }

    public mutating func equals(_ column: String, _ value: some SQLValueConvertible) {
        add("\(column) = ?", value.sqlValue)
    }

    /// Rows where any of `columns` contains `text` (case-insensitive for ASCII, as LIKE is);
    /// `%`, `_` and `\` in the text match themselves.
    public mutating func contains(_ text: String, inAnyOf columns: [String]) {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        let pattern = SQLValue.text("%" + escaped + "%")
        add(
            columns.map { "\($0) LIKE ? ESCAPE '\\'" }.joined(separator: " OR "),
            Array(repeating: pattern, count: columns.count))
    }

    public var sql: String { clauses.isEmpty ? "1" : clauses.joined(separator: " AND ") }
}

public struct RecordNotFoundError: Error, Sendable, CustomStringConvertible {
    public let table: String
    public let id: String

    public init(table: String, id: String) {
        self.table = table
        self.id = id
    }

    public var description: String { "no \(table) row with id \(id)" }
}

public struct VersionConflictError: Error, Sendable, CustomStringConvertible {
    public let table: String
    public let id: String
    public let expectedVersion: Int64
    public let currentVersion: Int64

    public init(table: String, id: String, expectedVersion: Int64, currentVersion: Int64) {
        self.table = table
        self.id = id
        self.expectedVersion = expectedVersion
        self.currentVersion = currentVersion
    }

    public var description: String {
        "\(table) \(id) is at version \(currentVersion), not \(expectedVersion): it was changed by someone else"
    }
}

public struct InvalidCursorError: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the cursor is not valid for this listing" }
}

public struct InvalidSortError: Error, Sendable, CustomStringConvertible {
    public let column: String
    public let allowed: [String]
    public var description: String {
        "cannot sort by '\(column)'; allowed: \(allowed.joined(separator: ", "))"
    }
}
