/// What one client connection may hold before it is answered and closed (see `HTTPConnectionGuard`
/// and `ConnectionLimiter`).
struct HTTPConnectionLimits: Sendable, Equatable {
    /// A request head must be complete within this long of its first byte (or of the connection opening).
    var headerTimeout: Duration = .seconds(10)
    /// Longest silence while a request body is read, and between requests on a kept-alive connection.
    var idleTimeout: Duration = .seconds(60)
    /// Largest request line plus header fields, in bytes; more is answered 431.
    var maxHeaderBytes = 32 * 1024
    /// Header fields per request; more is answered 431.
    var maxHeaderFields = 100
    /// Open connections of every kind (HTTP and OCPP WebSockets); more are refused with 503.
    var maxConnections = 16_384
}
