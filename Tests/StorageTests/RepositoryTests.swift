import Foundation
import Storage
import Testing

struct Gadget: TableRecord, Equatable {
    var id: String
    var version: Int64 = 0
    var name: String
    var powerKw: Int
    var createdAt: Date

    static let tableName = "gadgets"
    static let columns = ["name", "power_kw", "created_at"]
    static let sortableColumns = ["name", "power_kw", "created_at"]
    static let defaultSort = SortKey("created_at")

    var columnValues: [SQLValue] { [.text(name), .integer(Int64(powerKw)), createdAt.sqlValue] }

    init(id: String, name: String, powerKw: Int, createdAt: Date) {
        self.id = id
        self.name = name
        self.powerKw = powerKw
        self.createdAt = createdAt
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        name = try row.get("name")
        powerKw = try row.get("power_kw")
        createdAt = try row.get("created_at")
    }
}

@Suite("Repository")
struct RepositoryTests {
    let base = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("create, get, update with a version check, delete, count")
    func crud() async throws {
        try await withDatabase { database, _ async throws in
            let repository = SQLiteRepository<Gadget>(database: database)
            let created = try await repository.create(Gadget(id: "g1", name: "Charger", powerKw: 22, createdAt: base))
            #expect(created.version == 1)
            #expect(try await repository.get("g1") == created)
            #expect(try await repository.get("nope") == nil)

            var changed = created
            changed.powerKw = 50
            let updated = try await repository.update(changed, expectedVersion: 1)
            #expect(updated.version == 2)
            #expect(try await repository.get("g1")?.powerKw == 50)

            // A writer that read version 1 loses: nothing is overwritten.
            var stale = created
            stale.powerKw = 7
            let conflict = await #expect(throws: VersionConflictError.self) {
                try await repository.update(stale, expectedVersion: 1)
            }
            #expect(conflict?.currentVersion == 2)
            #expect(try await repository.get("g1")?.powerKw == 50)

            var ghost = created
            ghost.id = "ghost"
            await #expect(throws: RecordNotFoundError.self) { try await repository.update(ghost, expectedVersion: 1) }

            _ = try await repository.create(Gadget(id: "g2", name: "Other", powerKw: 11, createdAt: base))
            var filter = QueryFilter()
            filter.add("power_kw >= ?", .integer(20))
            #expect(try await repository.count(where: filter) == 1)
            #expect(try await repository.count(where: .all) == 2)
            #expect(try await repository.delete("g1") == true)
            #expect(try await repository.delete("g1") == false)
            #expect(try await repository.count(where: .all) == 1)

            await #expect(throws: SQLiteError.self) {
                try await repository.create(Gadget(id: "g2", name: "Duplicate", powerKw: 1, createdAt: base))
            }
        }
    }

    @Test("cursor pages are stable when rows are inserted between pages, and cover every row once")
    func paginationStability() async throws {
        try await withDatabase { database, _ async throws in
            let repository = SQLiteRepository<Gadget>(database: database)
            // Equal sort values on purpose: the id breaks ties.
            for index in 0..<25 {
                _ = try await repository.create(
                    Gadget(id: String(format: "g%02d", index), name: "n", powerKw: index % 3,
                           createdAt: base.addingTimeInterval(Double(index / 2))))
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await repository.list(where: .all, sort: nil, page: PageRequest(limit: 10, cursor: cursor))
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
                if pages == 1 {
                    // Rows inserted before the cursor position must not shift the next page.
                    _ = try await repository.create(
                        Gadget(id: "early", name: "n", powerKw: 0, createdAt: base.addingTimeInterval(-100)))
                    _ = try await repository.create(
                        Gadget(id: "late", name: "n", powerKw: 0, createdAt: base.addingTimeInterval(1000)))
                }
            } while cursor != nil
            #expect(pages == 3)
            #expect(Set(seen).count == seen.count, "no row twice")
            #expect(!seen.contains("early"))
            #expect(seen.last == "late")
            #expect(seen.count == 26)
        }
    }

    @Test("descending sort by another column with a filter, and bad cursors or sorts are refused")
    func sortAndFilter() async throws {
        try await withDatabase { database, _ async throws in
            let repository = SQLiteRepository<Gadget>(database: database)
            for (index, power) in [11, 50, 22, 150, 7].enumerated() {
                _ = try await repository.create(Gadget(id: "g\(index)", name: "n\(index)", powerKw: power, createdAt: base))
            }
            var filter = QueryFilter()
            filter.add("power_kw > ?", .integer(10))
            let first = try await repository.list(
                where: filter, sort: SortKey("power_kw", descending: true), page: PageRequest(limit: 2))
            #expect(first.items.map(\.powerKw) == [150, 50])
            let second = try await repository.list(
                where: filter, sort: SortKey("power_kw", descending: true), page: PageRequest(limit: 2, cursor: first.nextCursor))
            #expect(second.items.map(\.powerKw) == [22, 11])
            #expect(second.nextCursor == nil)

            await #expect(throws: InvalidCursorError.self) {
                try await repository.list(where: .all, sort: nil, page: PageRequest(limit: 2, cursor: "not-a-cursor"))
            }
            // A cursor from one ordering is not applied to another.
            await #expect(throws: InvalidCursorError.self) {
                try await repository.list(where: .all, sort: SortKey("name"), page: PageRequest(limit: 2, cursor: first.nextCursor))
            }
            await #expect(throws: InvalidSortError.self) {
                try await repository.list(where: .all, sort: SortKey("power_kw; DROP TABLE gadgets"), page: PageRequest())
            }
        }
    }

    @Test("text search matches a substring in any named column, with % and _ taken literally")
    func containsSearch() async throws {
        try await withDatabase { database, _ async throws in
            let repository = SQLiteRepository<Gadget>(database: database)
            for (id, name) in [("g1", "50% off"), ("g2", "a_b"), ("g3", "plain"), ("g4", "ab")] {
                _ = try await repository.create(Gadget(id: id, name: name, powerKw: 1, createdAt: base))
            }
            func ids(_ text: String) async throws -> [String] {
                var filter = QueryFilter()
                filter.contains(text, inAnyOf: ["name", "id"])
                return try await repository.list(where: filter, sort: SortKey("id"), page: PageRequest()).items.map(\.id)
            }
            #expect(try await ids("%") == ["g1"])
            #expect(try await ids("_") == ["g2"])
            #expect(try await ids("OFF") == ["g1"])
            #expect(try await ids("g3") == ["g3"])
            #expect(try await ids("ab") == ["g4"])
        }
    }
}
