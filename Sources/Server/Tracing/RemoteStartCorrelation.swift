import Synchronization

/// Remembers, for a few minutes, the trace context of each RemoteStartTransaction we sent, so the
/// StartTransaction it causes joins that trace: a charger's CALL carries no trace context of its
/// own. Keyed by station and id tag (the charger starts the transaction for the tag we sent); a
/// context is taken once. Bounded: when full, the oldest entry makes room.
final class RemoteStartCorrelation<Context: Sendable>: Sendable {
    struct Key: Hashable, Sendable {
        let stationID: String
        let idTag: String
    }

    private struct Entry {
        let context: Context
        let expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[Key: Entry]>([:])
    let lifetime: Duration
    let capacity: Int

    init(lifetime: Duration = .seconds(300), capacity: Int = 1024) {
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.withLock { $0.count } }

    func remember(_ context: Context, stationID: String, idTag: String, now: ContinuousClock.Instant) {
        let entry = Entry(context: context, expires: now + lifetime)
        let capacity = capacity
        entries.withLock { entries in
            entries[Key(stationID: stationID, idTag: idTag)] = entry
            guard entries.count > capacity else { return }
            entries = entries.filter { $0.value.expires > now }
            // Still full of live entries: the one that expires first is the oldest.
            while entries.count > capacity, let oldest = entries.min(by: { $0.value.expires < $1.value.expires }) {
                entries.removeValue(forKey: oldest.key)
            }
        }
    }

    /// The context of the remote start for this station and tag, if one is remembered and not expired.
    func take(stationID: String, idTag: String, now: ContinuousClock.Instant) -> Context? {
        entries.withLock { entries in
            guard let entry = entries.removeValue(forKey: Key(stationID: stationID, idTag: idTag)), entry.expires > now
            else { return nil }
            return entry.context
        }
    }
}
