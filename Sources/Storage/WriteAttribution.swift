import CSQLite

/// Who a write is done for, as a small JSON object the schema may read: while a write runs, SQL
/// sees it through the function `write_attribution()` (NULL when there is none), so triggers can
/// record it in the same transaction as the change. Storage does not interpret it.
///
/// Bound by the caller (`WriteAttribution.$current.withValue(…) { try await database.write … }`);
/// `Database.write` reads it in the caller's task, so it applies to that write alone even though
/// the writer batches several writes into one transaction.
public enum WriteAttribution {
    @TaskLocal public static var current: String?

    /// The SQL function's name.
    public static let sqlFunctionName = "write_attribution"
}

/// The attribution of the write running on a connection; the SQL function reads it through the
/// pointer registered with it, so it is a class the connection keeps alive.
final class AttributionSlot {
    var value: String?
}

extension Connection {
    /// Registers `write_attribution()`. Not deterministic (it changes per write) and innocuous (no
    /// side effects), so triggers may call it; not DIRECTONLY for the same reason.
    func registerAttributionFunction() throws {
        let function: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, _, _ in
            let slot = Unmanaged<AttributionSlot>.fromOpaque(sqlite3_user_data(context)).takeUnretainedValue()
            if let value = slot.value {
                sqlite3_result_text(context, value, -1, csqlite_transient())
            } else {
                sqlite3_result_null(context)
            }
        }
        let code = sqlite3_create_function_v2(
            handle, WriteAttribution.sqlFunctionName, 0, SQLITE_UTF8 | SQLITE_INNOCUOUS,
            Unmanaged.passUnretained(attributionSlot).toOpaque(), function, nil, nil, nil)
        guard code == SQLITE_OK else {
            throw SQLiteError(connection: handle, code: code, sql: "sqlite3_create_function_v2(write_attribution)")
        }
    }

    /// Runs `body` with `attribution` visible to SQL, and none after. Without one (every charger
    /// write) it costs a nil check.
    func attributed<T>(_ attribution: String?, _ body: () throws -> T) rethrows -> T {
        guard let attribution else { return try body() }
        attributionSlot.value = attribution
        defer { attributionSlot.value = nil }
        return try body()
    }
}
