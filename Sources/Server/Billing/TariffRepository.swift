import Foundation
import Storage

/// Tariffs: at most one default, and none deleted while a station uses it.
struct TariffRepository: Sendable {
    let database: Database

    func list(page: PageRequest) async throws -> Page<Tariff> {
        try await database.read { try TableStore<Tariff>.list(where: .all, sort: nil, page: page, in: $0) }
    }

    func tariff(_ id: String) async throws -> Tariff {
        guard let tariff = try await database.read({ try TableStore<Tariff>.fetch(id, from: $0) }) else {
            throw TariffError.notFound(id)
        }
        return tariff
    }

    /// A new default takes the flag from the old one in the same transaction.
    func create(_ tariff: Tariff) async throws -> Tariff {
        try await database.write { connection in
            if tariff.isDefault { try connection.run("UPDATE tariffs SET is_default = 0 WHERE is_default = 1") }
            return try TableStore<Tariff>.insert(tariff, into: connection)
        }
    }

    /// Stores a changed tariff if its stored version is still `expectedVersion`.
    func update(_ tariff: Tariff, expectedVersion: Int64) async throws -> Tariff {
        try await database.write { connection in
            guard try TableStore<Tariff>.fetch(tariff.id, from: connection) != nil else { throw TariffError.notFound(tariff.id) }
            if tariff.isDefault {
                try connection.run("UPDATE tariffs SET is_default = 0 WHERE is_default = 1 AND id != ?", tariff.id)
            }
            return try TableStore<Tariff>.update(tariff, expectedVersion: expectedVersion, in: connection)
        }
    }

    /// Refused while stations use the tariff: their sessions would lose their pricing.
    func delete(_ id: String) async throws {
        try await database.write { connection in
            let users = try connection.query("SELECT id FROM stations WHERE tariff_id = ? LIMIT 5", id) {
                try $0.get(0, as: String.self)
            }
            guard users.isEmpty else { throw TariffError.inUse(stationIDs: users) }
            guard try TableStore<Tariff>.delete(id, from: connection) else { throw TariffError.notFound(id) }
        }
    }
}
