import Foundation
import Storage
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

@Suite("Key/value store")
struct KeyValueStoreTests {
    @Test("set, get, overwrite and delete")
    func basics() async throws {
        try await withDatabase { database, _ async throws in
            let store = KeyValueStore(database: database)
            #expect(try await store.get("missing") == nil)
            try await store.set("greeting", "hello")
            #expect(try await store.getString("greeting") == "hello")
            try await store.set("greeting", [0, 255, 7])
            #expect(try await store.get("greeting") == [0, 255, 7])
            #expect(try await store.delete("greeting") == true)
            #expect(try await store.delete("greeting") == false)
            #expect(try await store.get("greeting") == nil)
        }
    }

    @Test("an expired key is invisible at once and removed by the sweep")
    func ttlExpiry() async throws {
        try await withDatabase { database, _ async throws in
            let clock = ManualClock()
            let store = KeyValueStore(database: database, now: { clock.now })
            try await store.set("session", "abc", ttl: .seconds(10))
            try await store.set("forever", "x")
            clock.advance(9.9)
            #expect(try await store.getString("session") == "abc")
            #expect(try await store.timeToLive("session") == .milliseconds(100))
            clock.advance(0.1)
            #expect(try await store.getString("session") == nil)
            #expect(try await store.sweepExpired() == 1)
            let rows = try await database.read { try $0.query("SELECT key FROM key_value") { try $0.get(0, as: String.self) } }
            #expect(rows == ["forever"])
            #expect(try await store.delete("session") == false)
        }
    }

    @Test("increment counts atomically, and the TTL of the first hit is kept")
    func incrementWithWindow() async throws {
        try await withDatabase { database, _ async throws in
            let clock = ManualClock()
            let store = KeyValueStore(database: database, now: { clock.now })
            let values = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await store.increment("hits", ttl: .seconds(60)) }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(Set(values) == Set(1...50))
            clock.advance(59)
            #expect(try await store.increment("hits", by: 10, ttl: .seconds(60)) == 60)
            clock.advance(1)
            // The window that began at the first hit is over: counting starts again.
            #expect(try await store.increment("hits", ttl: .seconds(60)) == 1)
            try await store.set("text", "abc")
            await #expect(throws: KeyValueTypeError.self) { try await store.increment("text") }
        }
    }

    @Test("setIfAbsent stores once, and again only after the key expired")
    func setIfAbsent() async throws {
        try await withDatabase { database, _ async throws in
            let clock = ManualClock()
            let store = KeyValueStore(database: database, now: { clock.now })
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask { try await store.setIfAbsent("idem", "first-\(index)", ttl: .seconds(5)) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(winners == 1)
            #expect(try await store.setIfAbsent("idem", "late", ttl: .seconds(5)) == false)
            clock.advance(5)
            #expect(try await store.setIfAbsent("idem", "after-expiry", ttl: .seconds(5)) == true)
            #expect(try await store.getString("idem") == "after-expiry")
        }
    }

    @Test("values survive closing and reopening the database")
    func survivesRestart() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("kv.sqlite")
        let first = try await Database.open(path: path, migrations: testSchema)
        try await KeyValueStore(database: first).set("kept", "yes", ttl: .seconds(3600))
        _ = try await KeyValueStore(database: first).increment("count", by: 5)
        await first.close()
        let second = try await Database.open(path: path, migrations: testSchema)
        let store = KeyValueStore(database: second)
        #expect(try await store.getString("kept") == "yes")
        #expect(try await store.increment("count") == 6)
        await second.close()
    }
}
