import Storage

/// Counts open sessions per id tag, for the authorizer's `maxActiveTransactions`.
struct ChargingSessionCounter: ActiveTransactionCounting {
    let database: Database

    func activeTransactions(forIdTag idTag: String) async throws -> Int {
        try await database.read { connection in
            try connection.queryFirst(
                "SELECT count(*) FROM charging_sessions WHERE id_tag = ? COLLATE NOCASE AND status = 'active'", idTag
            ) { try $0.get(0, as: Int.self) } ?? 0
        }
    }
}
