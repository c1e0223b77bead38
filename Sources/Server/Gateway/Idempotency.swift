import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// `Idempotency-Key` for POSTs that create or pay: the first response to a key is kept for 24
/// hours in the key/value store, and a retry with the same key gets that response again instead
/// of doing the work twice. The key is scoped to the caller and the route; the same key with a
/// different body is refused (422), and a retry while the first is still running gets 409.
/// A request that died with its process (a crash, `kill -9`) leaves its in-flight marker behind;
/// the marker names the process instance that wrote it, so a later instance takes the key over
/// and runs the request again instead of answering 409 until the marker expires. Work that may
/// have committed before such a crash gets the key (`work`'s argument) to store with what it
/// writes, in the same transaction, and answers a rerun from that instead of doing it twice.
struct Idempotency: Sendable {
    static let lifetime: Duration = .seconds(24 * 3600)
    static let headerName = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    let keyValue: KeyValueStore
    /// This process's identity, different on every start.
    let instance: String

    init(keyValue: KeyValueStore, instance: String = Identifiers.make()) {
        self.keyValue = keyValue
        self.instance = instance
    }

    private struct Stored: Codable {
        var fingerprint: String
        /// The process instance running the request, while it runs.
        var owner: String?
        var status: Int?
        var location: String?
        var body: Data?
    }

    /// `work` receives the request's scope key (caller, route and key, hashed), nil without a key.
    func run(
        _ request: Request, context: AppRequestContext, body: Data, _ work: (_ scopeKey: String?) async throws -> JSONReply
    ) async throws -> Response {
        guard let key = request.headers[Self.headerName] else { return try await work(nil).response }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIError.validation(field: "Idempotency-Key", "must be 1–255 printable characters")
        }
        let scope = [context.identity?.userID ?? "anonymous", request.method.rawValue, request.uri.path, key]
            .joined(separator: "\u{1F}")
        let scopeKey = TokenService.hash(scope)
        let storeKey = "idempotency:" + scopeKey
        let fingerprint = Self.fingerprint(body)
        let pending = Array(try JSONEncoder().encode(Stored(fingerprint: fingerprint, owner: instance)))
        if try await !keyValue.setIfAbsent(storeKey, pending, ttl: Self.lifetime) {
            guard let raw = try await keyValue.get(storeKey), let stored = try? JSONDecoder().decode(Stored.self, from: Data(raw))
            else { throw APIError.conflict("a request with this Idempotency-Key is being processed") }
            guard stored.fingerprint == fingerprint else {
                throw APIError.validation(field: "Idempotency-Key", "was already used with a different request body")
            }
            if let status = stored.status, let data = stored.body {
                var headers: HTTPFields = [Self.replayedHeader: "true"]
                if let location = stored.location { headers[.location] = location }
                return JSONReply(status: HTTPResponse.Status(code: status), headers: headers, data: data).response
            }
            // In flight in this process, or taken over by a concurrent retry first: wait for it.
            guard stored.owner != instance,
                try await keyValue.replace(storeKey, ifValueIs: raw, with: pending, ttl: Self.lifetime)
            else { throw APIError.conflict("a request with this Idempotency-Key is being processed") }
        }
        do {
            let reply = try await work(scopeKey)
            let stored = Stored(
                fingerprint: fingerprint, status: reply.status.code, location: reply.headers[.location], body: reply.data)
            try await keyValue.set(storeKey, Array(try JSONEncoder().encode(stored)), ttl: Self.lifetime)
            return reply.response
        } catch {
            // Nothing was done, so the key is free for a retry.
            _ = try? await keyValue.delete(storeKey)
            throw error
        }
    }
}

extension Idempotency {
    /// The same JSON with its keys in another order is the same request.
    static func fingerprint(_ body: Data) -> String {
        let canonical = (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]))
            .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed]) } ?? body
        return TokenService.hash(String(decoding: canonical, as: UTF8.self))
    }
}

extension Request {
    /// The whole body (already limited by the gateway) and its JSON decoding.
    func bodyAndJSON<T: Decodable>(as type: T.Type) async throws -> (Data, T) {
        let buffer = try await body.collect(upTo: .max)
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw APIError.badRequest("a JSON body is required") }
        return (data, try WireFormat.decoder.decode(T.self, from: data))
    }
}
