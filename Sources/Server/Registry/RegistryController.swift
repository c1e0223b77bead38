import Foundation
import Hummingbird
import Observability

/// `/api/v1/services`: the registry over HTTP. Operators and admins read; only admins write.
struct RegistryController {
    let registry: ServiceRegistry
    let metrics: RequestMetrics

    struct RegistrationRequest: Decodable {
        var name: String
        var url: String
        var metadata: [String: String]?
        var ttlSeconds: Int?
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/services") { _, context in
            let views = await registry.list().map(withMetrics)
            return try jsonResponse(ListResponse(items: views, nextCursor: nil))
        }
        router.get("/api/v1/services/{name}") { _, context in
            let name = try context.parameters.require("name")
            return try jsonResponse(withMetrics(try await registry.get(name)))
        }
        router.post("/api/v1/services") { request, context in
            let body = try await request.decodeJSON(as: RegistrationRequest.self)
            let (name, url, ttl) = try Self.validate(body)
            let outcome = try await registry.registerExternal(
                name: name, url: url, metadata: body.metadata ?? [:], ttl: .seconds(ttl))
            let view = try await registry.get(name)
            return try jsonResponse(
                view, status: outcome == .created ? .created : .ok,
                headers: [.location: "/api/v1/services/\(name)"])
        }
        router.put("/api/v1/services/{name}/heartbeat") { _, context in
            return try jsonResponse(try await registry.heartbeat(try context.parameters.require("name")))
        }
        router.delete("/api/v1/services/{name}") { _, context in
            try await registry.deregister(try context.parameters.require("name"))
            return Response(status: .noContent)
        }
        router.get("/api/v1/services/{name}/discover") { request, context in
            let name = try context.parameters.require("name")
            let base = request.head.authority.flatMap { URL(string: "http://\($0)") }
            guard let found = await registry.discover(name, baseURL: base) else {
                throw APIError.notFound(
                    "no healthy instance of '\(name)' is registered and \(name.uppercased())_URL is not set")
            }
            return try jsonResponse(found)
        }
    }

    private func withMetrics(_ view: ServiceRegistry.ServiceView) -> ServiceRegistry.ServiceView {
        guard view.kind == "internal" else { return view }
        var view = view
        view.metrics = metrics.service(view.name)
        return view
    }

    static func validate(_ body: RegistrationRequest) throws -> (String, URL, Int) {
        var validator = Validator()
        let namePattern = body.name.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E
        }
        validator.check(
            (1...64).contains(body.name.count) && namePattern, "name",
            "must be 1–64 characters of a–z, 0–9, '-', '_' or '.'")
        let url = URL(string: body.url)
        validator.check(
            url?.scheme == "http" && !(url?.host ?? "").isEmpty, "url",
            "must be an absolute http:// URL (its /health is polled)")
        let ttl = body.ttlSeconds ?? 30
        validator.check((1...86_400).contains(ttl), "ttlSeconds", "must be from 1 to 86400")
        validator.check((body.metadata?.count ?? 0) <= 32, "metadata", "may have at most 32 entries")
        try validator.throwIfInvalid()
        return (body.name, url!, ttl)
    }
}
