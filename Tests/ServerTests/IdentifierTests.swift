import Foundation
import Testing

@testable import Server

@Suite("Identifiers")
struct IdentifierTests {
    @Test("ids are version-7 UUIDs that sort in the order of the milliseconds they were made in")
    func timeOrdered() throws {
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        // Two milliseconds apart: within one millisecond, the order is random.
        let ids = (0..<1000).map { Identifiers.make(at: start.addingTimeInterval(Double($0) * 0.002)) }
        for id in ids {
            let uuid = try #require(UUID(uuidString: id))
            #expect(id == id.lowercased())
            #expect(uuid.uuid.6 >> 4 == 7)
            #expect(uuid.uuid.8 >> 6 == 0b10)
        }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        // Made in the same millisecond: still distinct (74 random bits).
        let same = (0..<1000).map { _ in Identifiers.make(at: start) }
        #expect(Set(same).count == same.count)
        #expect(same.allSatisfy { $0.hasPrefix(ids[0].prefix(13)) })
    }

    @Test("a clock before 1970 or past the 48 bits of milliseconds gives an id at the end of the range, not a trap")
    func clockOutOfRange() throws {
        let early = Identifiers.make(at: Date(timeIntervalSince1970: -1_000_000))
        let late = Identifiers.make(at: Date(timeIntervalSince1970: 1e15))
        #expect(early.hasPrefix("00000000-0000-7"))
        #expect(late.hasPrefix("ffffffff-ffff-7"))
        #expect(UUID(uuidString: early) != nil && UUID(uuidString: late) != nil)
    }
}
