import Storage

/// The database schema, in order. Append only: a released migration never changes.
enum Schema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "key_value", sql: KeyValueStore.schemaSQL)
    ]
}
