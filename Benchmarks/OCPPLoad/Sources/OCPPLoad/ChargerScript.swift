import NIOCore

/// What one simulated charger does, shared by all of them (immutable, so any event loop may read it).
struct ChargerScript: Sendable {
    var mode: LoadOptions.Mode
    var idTag: String
    var meterValuesPerTransaction = 10
    var heartbeat: TimeAmount
    var callTimeout: TimeAmount
    /// Closed loop: no CALL starts after this; the charger closes its connection instead.
    var stopSendingAt: NIODeadline
    var recorder: LoadRecorder
}

/// Sent down a charger's pipeline once its WebSocket upgrade is complete.
struct StartScript: Sendable {}
