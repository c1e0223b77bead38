import Foundation
import Storage
import Testing

@Suite("Connection and statements")
struct ConnectionTests {
    @Test("values of every type come back exactly as bound")
    func bindingRoundTrips() async throws {
        try await withDatabase { database, _ async throws in
            let unicode = "Grüße ⚡️🚗 日本語 \u{0} end"
            let large = [UInt8]((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let date = Date(unixMilliseconds: 1_790_000_000_123)
            let rows: [(Int64, String?, [UInt8]?, Int64?, Double?)] = try await database.write { connection in
                try connection.run(
                    "INSERT INTO samples (id, text_value, blob_value, int_value, real_value) VALUES (?, ?, ?, ?, ?)",
                    1, unicode, large, Int64.max, 0.1)
                try connection.run(
                    "INSERT INTO samples (id, text_value, blob_value, int_value, real_value) VALUES (?, ?, ?, ?, ?)",
                    2, "", [UInt8](), Int64.min, -0.0)
                try connection.run(
                    "INSERT INTO samples (id, text_value, blob_value, int_value, real_value) VALUES (?, ?, ?, ?, ?)",
                    3, String?.none, [UInt8]?.none, Int64?.none, Double?.none)
                try connection.run("INSERT INTO samples (id, int_value) VALUES (?, ?)", 4, date)
                try connection.run("INSERT INTO samples (id, int_value) VALUES (?, ?)", 5, true)
                return try connection.query("SELECT * FROM samples WHERE id <= 3 ORDER BY id") { row in
                    (
                        try row.get("id", as: Int64.self), try row.get("text_value", as: String?.self),
                        try row.get("blob_value", as: [UInt8]?.self), try row.get("int_value", as: Int64?.self),
                        try row.get("real_value", as: Double?.self)
                    )
                }
            }
            #expect(rows.count == 3)
            #expect(rows[0].1 == unicode)
            #expect(rows[0].2 == large)
            #expect(rows[0].3 == Int64.max)
            #expect(rows[0].4 == 0.1)
            // Empty text and blob are values, not NULL.
            #expect(rows[1].1 == "")
            #expect(rows[1].2 == [])
            #expect(rows[1].3 == Int64.min)
            #expect(rows[2].1 == nil && rows[2].2 == nil && rows[2].3 == nil && rows[2].4 == nil)

            let (storedDate, storedBool, blobAsData) = try await database.read { connection in
                (
                    try connection.queryFirst("SELECT int_value FROM samples WHERE id = 4") { try $0.get(0, as: Date.self) },
                    try connection.queryFirst("SELECT int_value FROM samples WHERE id = 5") { try $0.get(0, as: Bool.self) },
                    try connection.queryFirst("SELECT blob_value FROM samples WHERE id = 2") { try $0.get(0, as: Data.self) }
                )
            }
            #expect(storedDate == date)
            #expect(storedBool == true)
            #expect(blobAsData == Data())
        }
    }

    @Test("reading NULL as a non-optional, or a missing column, is a typed error")
    func decodingErrors() async throws {
        try await withDatabase { database, _ async throws in
            try await database.write { try $0.run("INSERT INTO samples (id) VALUES (?)", 1) }
            await #expect(throws: RowDecodingError.self) {
                try await database.read { try $0.queryFirst("SELECT text_value FROM samples") { try $0.get("text_value", as: String.self) } }
            }
            await #expect(throws: RowDecodingError.self) {
                try await database.read { try $0.queryFirst("SELECT id FROM samples") { try $0.get("nope", as: Int64.self) } }
            }
        }
    }

    @Test("columns read by name in any order, repeated, or after a miss come from the right column")
    func columnsByNameInAnyOrder() async throws {
        try await withDatabase { database, _ async throws in
            try await database.write {
                try $0.run("INSERT INTO samples (id, text_value, int_value, real_value) VALUES (?, ?, ?, ?)", 1, "one", 10, 1.5)
                try $0.run("INSERT INTO samples (id, text_value, int_value, real_value) VALUES (?, ?, ?, ?)", 2, "two", 20, 2.5)
            }
            let rows = try await database.read { connection in
                try connection.query("SELECT id, text_value, int_value, real_value FROM samples ORDER BY id") { row in
                    // Backwards, then the same column twice, then a miss, then forwards again.
                    let real = try row.get("real_value", as: Double.self)
                    let int = try row.get("int_value", as: Int64.self)
                    let intAgain = try row.get("int_value", as: Int64.self)
                    let missing = try? row.get("nope", as: Int64.self)
                    let id = try row.get("id", as: Int64.self)
                    let text = try row.get("text_value", as: String.self)
                    return "\(id) \(text) \(int) \(intAgain) \(real) \(missing.map(String.init) ?? "-")"
                }
            }
            #expect(rows == ["1 one 10 10 1.5 -", "2 two 20 20 2.5 -"])
        }
    }

    @Test("binding the wrong number of values is refused before the statement runs")
    func parameterCountMismatch() async throws {
        try await withDatabase { database, _ async throws in
            let error = await #expect(throws: SQLiteError.self) {
                try await database.write { try $0.run("INSERT INTO samples (id, int_value) VALUES (?, ?)", 1) }
            }
            #expect(error?.sql?.contains("INSERT INTO samples") == true)
            let count = try await database.read { try $0.queryFirst("SELECT count(*) FROM samples") { try $0.get(0, as: Int.self) } }
            #expect(count == 0)
        }
    }

    @Test("a multi-row insert stores every row in order, over full statements and a shorter last one")
    func multiRowInsert() async throws {
        try await withDatabase { database, _ async throws in
            let rows = (1...70).map { (id: $0, text: $0 % 7 == 0 ? nil : "row \($0)", number: Int64($0) * 1_000_000_007) }
            try await database.write { connection in
                try connection.insert(into: "samples", columns: ["id", "text_value", "int_value"], rows) { row, binder in
                    binder.bind(row.id)
                    binder.bind(row.text)
                    binder.bind(row.number)
                }
            }
            let stored = try await database.read { connection in
                try connection.query("SELECT id, text_value, int_value FROM samples ORDER BY id") { row in
                    (try row.get(0, as: Int.self), try row.get(1, as: String?.self), try row.get(2, as: Int64.self))
                }
            }
            #expect(stored.count == 70)
            #expect(stored.map(\.0) == rows.map(\.id))
            #expect(stored.map(\.1) == rows.map(\.text))
            #expect(stored.map(\.2) == rows.map(\.number))
        }
    }

    @Test("a multi-row insert that binds fewer values than its columns is refused and stores nothing")
    func multiRowInsertMissingValue() async throws {
        try await withDatabase { database, _ async throws in
            let error = await #expect(throws: SQLiteError.self) {
                try await database.write { connection in
                    try connection.insert(into: "samples", columns: ["id", "int_value"], [1, 2, 3]) { id, binder in
                        binder.bind(id)
                    }
                }
            }
            #expect(error?.sql?.contains("INSERT INTO samples") == true)
            let count = try await database.read { try $0.queryFirst("SELECT count(*) FROM samples") { try $0.get(0, as: Int.self) } }
            #expect(count == 0)
        }
    }

    @Test("double-quoted strings are not silently taken as literals")
    func doubleQuotedStringsDisabled() async throws {
        try await withDatabase { database, _ async throws in
            let error = await #expect(throws: SQLiteError.self) {
                try await database.read { try $0.queryFirst("SELECT \"no_such_column\" FROM samples") { _ in 0 } }
            }
            #expect(error?.message.contains("no_such_column") == true)
        }
    }

    @Test("constraint violations are told apart by kind, with codes, message and SQL")
    func constraintErrors() async throws {
        try await withDatabase { database, _ async throws in
            try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p1", "Ada") }
            let unique = await #expect(throws: SQLiteError.self) {
                try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p2", "Ada") }
            }
            #expect(unique?.kind == .uniqueViolation)
            #expect(unique?.code == 19)
            #expect(unique?.extendedCode == 2067)
            #expect(unique?.sql?.contains("INSERT INTO parents") == true)

            let primaryKey = await #expect(throws: SQLiteError.self) {
                try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p1", "Bob") }
            }
            #expect(primaryKey?.kind == .uniqueViolation)

            let foreignKey = await #expect(throws: SQLiteError.self) {
                try await database.write { try $0.run("INSERT INTO children (id, parent_id) VALUES (?, ?)", "c1", "missing") }
            }
            #expect(foreignKey?.kind == .foreignKeyViolation)

            let notNull = await #expect(throws: SQLiteError.self) {
                try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p3", String?.none) }
            }
            #expect(notNull?.kind == .notNullViolation)

            let check = await #expect(throws: SQLiteError.self) {
                try await database.write { try $0.run("INSERT INTO children (id, parent_id, age) VALUES (?, ?, ?)", "c2", "p1", -1) }
            }
            #expect(check?.kind == .checkViolation)
        }
    }
}
