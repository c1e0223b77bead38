import HTTPTypes
import Hummingbird

/// Settles who the client is, once, for the rate limits and the audit log: the socket's peer, or —
/// when the peer is one of the configured trusted proxies — the nearest `X-Forwarded-For` hop that
/// is not one of them. Hops further left are whatever the client chose to send, so they never count.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let trustedProxies: Set<String>

    static let forwardedForField = HTTPField.Name("X-Forwarded-For")!

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let peer = context.clientAddress, trustedProxies.contains(peer) else { return try await next(request, context) }
        var context = context
        context.clientAddress = Self.clientAddress(
            peer: peer, forwardedFor: request.headers[values: Self.forwardedForField], trustedProxies: trustedProxies)
        return try await next(request, context)
    }

    static func clientAddress(peer: String, forwardedFor: [String], trustedProxies: Set<String>) -> String {
        guard trustedProxies.contains(peer) else { return peer }
        var address = peer
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
        for hop in hops.reversed().prefix(32) {
            let hop = hop.trimmingCharacters(in: .whitespaces)
            guard !hop.isEmpty, hop.utf8.count <= 64 else { break }
            address = hop
            guard trustedProxies.contains(hop) else { break }
        }
        return address
    }
}
