import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Server

@Suite("Roles on every route family")
struct RoleMatrixTests {
    enum Caller: String, CaseIterable {
        case anonymous, driver, `operator`, admin
    }

    enum Outcome: Equatable {
        case unauthorized, forbidden, allowed
    }

    struct Rule: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: String]?
        /// The outcome for driver, operator and admin; anonymous callers always get 401.
        let driver: Outcome
        let `operator`: Outcome
        let admin: Outcome

        var description: String { "\(method) \(path)" }
    }

    static let rules: [Rule] = [
        Rule(method: .get, path: "/api/v1/stations", body: nil, driver: .allowed, operator: .allowed, admin: .allowed),
        Rule(method: .get, path: "/api/v1/stations/availability", body: nil, driver: .allowed, operator: .allowed, admin: .allowed),
        Rule(method: .get, path: "/api/v1/stations/S1", body: nil, driver: .allowed, operator: .allowed, admin: .allowed),
        Rule(method: .post, path: "/api/v1/stations", body: ["id": "NEW", "name": "n"], driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .patch, path: "/api/v1/stations/S1", body: ["name": "n"], driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .delete, path: "/api/v1/stations/S1", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .post, path: "/api/v1/stations/S1/connectors", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .put, path: "/api/v1/stations/S1/credentials", body: ["password": "0123456789abcdef"], driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .get, path: "/api/v1/drivers", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .post, path: "/api/v1/drivers", body: ["name": "n", "email": "n@example.com"], driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .delete, path: "/api/v1/drivers/none", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .get, path: "/api/v1/me/driver", body: nil, driver: .allowed, operator: .allowed, admin: .allowed),
        Rule(method: .get, path: "/api/v1/id-tags", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .put, path: "/api/v1/id-tags/RFID1", body: ["status": "Accepted"], driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .delete, path: "/api/v1/id-tags/RFID1", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .post, path: "/api/v1/id-tags/RFID1/authorize", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .get, path: "/api/v1/users", body: nil, driver: .forbidden, operator: .forbidden, admin: .allowed),
        Rule(method: .post, path: "/api/v1/users", body: ["email": "x@example.com", "password": "password-1", "name": "x", "role": "operator"], driver: .forbidden, operator: .forbidden, admin: .allowed),
        Rule(method: .patch, path: "/api/v1/users/none", body: ["name": "n"], driver: .forbidden, operator: .forbidden, admin: .allowed),
        Rule(method: .get, path: "/api/v1/services", body: nil, driver: .forbidden, operator: .allowed, admin: .allowed),
        Rule(method: .post, path: "/api/v1/services", body: ["name": "ext", "url": "http://127.0.0.1:9"], driver: .forbidden, operator: .forbidden, admin: .allowed),
        Rule(method: .put, path: "/api/v1/services/ext/heartbeat", body: nil, driver: .forbidden, operator: .forbidden, admin: .allowed),
        Rule(method: .get, path: "/api/v1/auth/me", body: nil, driver: .allowed, operator: .allowed, admin: .allowed),
        Rule(method: .post, path: "/api/v1/auth/logout-all", body: nil, driver: .allowed, operator: .allowed, admin: .allowed),
    ]

    @Test("each role gets 401, 403 or through, as the role table says", arguments: rules)
    func roleMatrix(rule: Rule) async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let (_, operatorToken) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            let (_, driverToken) = try await client.makeUser("driver", email: "dr@example.com", adminToken: admin)
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            let tokens: [Caller: String?] = [.anonymous: nil, .driver: driverToken, .operator: operatorToken, .admin: admin]
            for caller in Caller.allCases {
                let expected: Outcome =
                    switch caller {
                    case .anonymous: .unauthorized
                    case .driver: rule.driver
                    case .operator: rule.operator
                    case .admin: rule.admin
                    }
                let reply = try await client.call(rule.method, rule.path, token: tokens[caller] ?? nil, json: rule.body)
                let outcome: Outcome =
                    switch reply.status {
                    case .unauthorized: .unauthorized
                    case .forbidden: .forbidden
                    default: .allowed
                    }
                #expect(outcome == expected, "\(caller) \(rule): got \(reply.status.code) \(reply.object)")
            }
        }
    }

    @Test("every route the router has declares who may call it, and the table names no route that does not exist")
    func everyRouteHasAPolicy() async throws {
        try await withApp { _, dependencies async throws in
            let table = RouteTable()
            _ = buildRouter(dependencies, routeTable: table)
            let routes = Set(table.routes.map { "\($0.method) \($0.path)" })
            #expect(routes.count >= 73)
            let undeclared = routes.filter { RoutePolicy.table[$0] == nil && RoutePolicy.dashboardTable[$0] == nil }.sorted()
            #expect(undeclared == [], "routes without an entry in RoutePolicy.table or RoutePolicy.dashboardTable")
            let stale = Set(RoutePolicy.table.keys).union(RoutePolicy.dashboardTable.keys).subtracting(routes).sorted()
            #expect(stale == [], "RoutePolicy.table entries for routes that do not exist")
        }
    }

    /// A concrete path for a route pattern: every `{parameter}` becomes a value that exists or is
    /// at least well-formed, so an allowed caller gets past the parameter parsing.
    static func concretePath(_ pattern: String) -> String {
        pattern.split(separator: "/", omittingEmptySubsequences: false).map { part -> String in
            switch part {
            case "{id}" where pattern.hasPrefix("/api/v1/stations"): "S1"
            case "{connectorId}": "1"
            case "{action}": "Heartbeat"
            case "{command}": "reset"
            case "{idTag}": "RFID1"
            case "{name}": "ext"
            default: part.hasPrefix("{") ? "none" : String(part)
            }
        }.joined(separator: "/")
    }

    @Test("each route gives 401 and 403 exactly where RoutePolicy.table says", arguments: RoutePolicy.table.keys.sorted())
    func wholeTable(route: String) async throws {
        let parts = route.split(separator: " ", maxSplits: 1)
        let method = try #require(HTTPRequest.Method(String(parts[0])))
        let path = Self.concretePath(String(parts[1]))
        let access = try #require(RoutePolicy.table[route])
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let (_, operatorToken) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            let (_, driverToken) = try await client.makeUser("driver", email: "dr@example.com", adminToken: admin)
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            let callers: [(Caller, String?, Role?)] = [
                (.anonymous, nil, nil), (.driver, driverToken, .driver), (.operator, operatorToken, .operator), (.admin, admin, .admin),
            ]
            for (caller, token, role) in callers {
                let expected: Outcome =
                    switch (access, role) {
                    case (.anyone, _): .allowed
                    case (_, nil): .unauthorized
                    case (_, let role?): access.allows(role) ? .allowed : .forbidden
                    }
                // The event stream never ends for a caller it lets in; only refusals are checked there.
                if expected == .allowed, route == "GET /api/v1/events" { continue }
                let body: [String: String]? = method == .get || method == .delete ? nil : [:]
                let reply = try await client.call(method, path, token: token, json: body)
                let outcome: Outcome =
                    switch reply.status {
                    case .unauthorized: .unauthorized
                    case .forbidden: .forbidden
                    default: .allowed
                    }
                #expect(outcome == expected, "\(caller) \(route) at \(path): got \(reply.status.code) \(reply.object)")
            }
        }
    }

    @Test("the public auth routes need no token")
    func publicRoutes() async throws {
        try await withApp { client, _ async throws in
            let register = try await client.call(.post, "/api/v1/auth/register", json: ["email": "p@example.com", "password": "password-1", "name": "P"])
            #expect(register.status == .created)
            let login = try await client.call(.post, "/api/v1/auth/login", json: ["email": "p@example.com", "password": "password-1"])
            #expect(login.status == .ok)
            let refresh = try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": login["refreshToken"] as? String ?? ""])
            #expect(refresh.status == .ok)
            #expect(try await client.call(.post, "/api/v1/auth/logout", json: ["refreshToken": "x"]).status == .noContent)
            #expect(try await client.call(.get, "/health").status == .ok)
        }
    }
}
