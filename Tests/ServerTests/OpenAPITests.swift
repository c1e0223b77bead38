import Foundation
import HummingbirdTesting
import Testing

@testable import Server

@Suite("The OpenAPI document")
struct OpenAPITests {
    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// The served document, parsed.
    static func servedDocument(_ client: any TestClientProtocol) async throws -> [String: Any] {
        let reply = try await client.call(.get, "/openapi.json")
        #expect(reply.status == .ok)
        #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
        return reply.object
    }

    @Test("/openapi.json documents exactly the routes the router has, method and path")
    func documentsEveryRoute() async throws {
        try await withApp { client, dependencies async throws in
            let table = RouteTable()
            _ = buildRouter(dependencies, routeTable: table)
            // The dashboard's pages are HTML for browsers, not API operations.
            let routed = Set(table.routes.map { "\($0.method) \($0.path)" }).subtracting(RoutePolicy.dashboardTable.keys)
            #expect(routed.count > 70)

            let paths = try #require(try await Self.servedDocument(client)["paths"] as? [String: [String: Any]])
            var documented: Set<String> = []
            for (path, item) in paths {
                for method in item.keys where Self.methods.contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            #expect(routed.subtracting(documented).sorted() == [], "routes without documentation")
            #expect(documented.subtracting(routed).sorted() == [], "documented operations without a route")
        }
    }

    @Test("every operation declares its security, its path parameters and problem+json errors")
    func operationsAreComplete() async throws {
        try await withApp { client, _ async throws in
            let document = try await Self.servedDocument(client)
            #expect(document["openapi"] as? String == "3.1.0")
            let components = try #require(document["components"] as? [String: Any])
            let schemas = try #require(components["schemas"] as? [String: Any])
            let responses = try #require(components["responses"] as? [String: [String: Any]])
            let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
            for (path, item) in paths {
                for (method, operation) in item {
                    let name = "\(method.uppercased()) \(path)"
                    let security = try #require(operation["security"] as? [[String: Any]], "\(name) has no security")
                    let statuses = try #require(operation["responses"] as? [String: Any]).keys
                    if !security.isEmpty { #expect(statuses.contains("401"), "\(name) does not document 401") }
                    #expect(statuses.contains { $0.hasPrefix("2") }, "\(name) documents no success")
                    let declared = Set(
                        (operation["parameters"] as? [[String: Any]] ?? []).filter { $0["in"] as? String == "path" }
                            .compactMap { $0["name"] as? String })
                    let inPath = Set(
                        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
                    #expect(declared == inPath, "\(name) path parameters")
                }
            }
            for (name, response) in responses where name.hasPrefix("Problem") {
                let content = try #require(response["content"] as? [String: Any])
                #expect(Array(content.keys) == ["application/problem+json"])
            }
            // Every schema reference points at a schema that exists.
            let text = String(decoding: OpenAPIDocument.data, as: UTF8.self)
            let prefix = "\"#/components/schemas/"
            var missing: [String] = []
            var rest = Substring(text)
            while let start = rest.range(of: prefix) {
                let tail = rest[start.upperBound...]
                let end = try #require(tail.firstIndex(of: "\""))
                let name = String(tail[..<end])
                if schemas[name] == nil { missing.append(name) }
                rest = tail[end...]
            }
            #expect(missing == [])
        }
    }
}
