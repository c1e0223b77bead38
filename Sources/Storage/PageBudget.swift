/// Room left under the database's page limit (`max_page_count`); freed pages count as room.
public struct PageBudget: Sendable, Equatable {
    public var pageSize: Int
    public var usedPages: Int
    public var maximumPages: Int

    public var availableBytes: Int { max(0, maximumPages - usedPages) * pageSize }

    static func measure(_ connection: Connection) throws -> PageBudget {
        func pragma(_ name: String) throws -> Int {
            try connection.queryFirst("PRAGMA \(name)") { try $0.get(0, as: Int.self) } ?? 0
        }
        return PageBudget(
            pageSize: try pragma("page_size"), usedPages: try pragma("page_count") - pragma("freelist_count"),
            maximumPages: try pragma("max_page_count"))
    }
}
