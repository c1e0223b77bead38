/// Who may call each route, in one table, keyed by method and the router's route pattern (as
/// `context.endpointPath` gives it). `RoutePolicyMiddleware` enforces it before any handler runs,
/// and `RoleMatrixTests` checks every route the router has against it, so a route added without
/// an entry fails the tests (and is refused at run time). Handlers still narrow further per record
/// (a driver sees only their own sessions, invoices and profile).
enum RoutePolicy {
    enum Access: Sendable, Equatable {
        /// No token needed (health, login, register, …).
        case anyone
        /// Any valid access token; the handler decides what the caller sees.
        case signedIn
        /// A valid access token of one of these roles.
        case roles(Set<Role>)

        static let staff = Access.roles([.admin, .operator])
        static let admin = Access.roles([.admin])

        func allows(_ role: Role) -> Bool {
            switch self {
            case .anyone, .signedIn: true
            case .roles(let roles): roles.contains(role)
            }
        }
    }

    static func access(method: String, pattern: String) -> Access? {
        let key = method + " " + pattern
        return table[key] ?? dashboardTable[key]
    }

    /// The dashboard's routes (signed in by cookie, see `DashboardMiddleware`). Each that acts on
    /// data names the API route it stands for: its access is that route's, narrowed to staff (the
    /// dashboard is not for drivers). `DashboardTests` checks both.
    static let dashboardTable: [String: Access] = [
        "GET /": .anyone,
        "GET /ui/assets/{name}": .anyone,
        "GET /ui/login": .anyone,
        "POST /ui/login": .anyone,
        "POST /ui/logout": .anyone,
        "POST /ui/logout-everywhere": .staff,
        "GET /ui/events": .staff,
        "GET /ui": .staff,
        "GET /ui/stations": .staff,
        "GET /ui/stations/{id}": .staff,
        "POST /ui/stations/{id}/commands/{command}": .staff,
        "POST /ui/stations": .staff,
        "POST /ui/stations/{id}/edit": .staff,
        "POST /ui/stations/{id}/password": .staff,
        "POST /ui/stations/{id}/decommission": .staff,
        "POST /ui/stations/{id}/local-list": .staff,
        "POST /ui/stations/{id}/charging-profiles/{profileId}/clear": .staff,
        "POST /ui/stations/{id}/firmware": .staff,
        "POST /ui/stations/{id}/diagnostics": .staff,
        "GET /ui/stations/{id}/jobs/{jobId}/file": .staff,
        "POST /ui/stations/{id}/credentials/rotate": .staff,
        "GET /ui/sessions": .staff,
        "GET /ui/sessions/export.csv": .staff,
        "GET /ui/sessions/{id}": .staff,
        "GET /ui/invoices": .staff,
        "GET /ui/invoices/{id}": .staff,
        "POST /ui/invoices/{id}/payments": .staff,
        "POST /ui/invoices/{id}/void": .admin,
        "GET /ui/drivers": .staff,
        "POST /ui/drivers": .staff,
        "GET /ui/drivers/{id}": .staff,
        "POST /ui/tariffs": .staff,
        "POST /ui/tariffs/{id}/edit": .staff,
        "GET /ui/id-tags": .staff,
        "POST /ui/id-tags": .staff,
        "POST /ui/id-tags/{idTag}/status": .staff,
        "GET /ui/tariffs": .staff,
        "GET /ui/tariffs/{id}": .staff,
        "GET /ui/alerts": .staff,
        "POST /ui/alerts/{id}/acknowledge": .staff,
        "POST /ui/alerts/{id}/resolve": .staff,
        "GET /ui/analytics": .staff,
        "GET /ui/users": .admin,
        "POST /ui/users": .admin,
        "POST /ui/users/{id}/status": .admin,
        "GET /ui/system": .staff,
        "GET /ui/sites": .staff,
        "GET /ui/sites/{id}": .staff,
        "POST /ui/sites": .staff,
        "POST /ui/sites/{id}/edit": .staff,
        "GET /ui/reservations": .staff,
        "POST /ui/reservations": .staff,
        "POST /ui/reservations/{id}/cancel": .staff,
        "GET /ui/audit": .admin,
        "GET /ui/audit/export.csv": .admin,
    ]

    /// The API route each dashboard route acts through.
    static let dashboardCounterparts: [String: String] = [
        "POST /ui/logout-everywhere": "POST /api/v1/auth/logout-all",
        "GET /ui/events": "GET /api/v1/events",
        "GET /ui": "GET /api/v1/analytics/overview",
        "GET /ui/stations": "GET /api/v1/stations",
        "GET /ui/stations/{id}": "GET /api/v1/stations/{id}/ocpp-log",
        "POST /ui/stations/{id}/commands/{command}": "POST /api/v1/stations/{id}/commands/{command}",
        "POST /ui/stations": "POST /api/v1/stations",
        "POST /ui/stations/{id}/edit": "PATCH /api/v1/stations/{id}",
        "POST /ui/stations/{id}/password": "PUT /api/v1/stations/{id}/credentials",
        "POST /ui/stations/{id}/decommission": "DELETE /api/v1/stations/{id}",
        "POST /ui/stations/{id}/local-list": "POST /api/v1/stations/{id}/local-list",
        "POST /ui/stations/{id}/charging-profiles/{profileId}/clear": "DELETE /api/v1/stations/{id}/charging-profiles",
        "POST /ui/stations/{id}/firmware": "POST /api/v1/stations/{id}/firmware",
        "POST /ui/stations/{id}/diagnostics": "POST /api/v1/stations/{id}/diagnostics",
        "GET /ui/stations/{id}/jobs/{jobId}/file": "GET /api/v1/stations/{id}/jobs/{jobId}/file",
        "POST /ui/stations/{id}/credentials/rotate": "POST /api/v1/stations/{id}/credentials/rotate",
        "GET /ui/sessions": "GET /api/v1/sessions",
        "GET /ui/sessions/export.csv": "GET /api/v1/sessions/export.csv",
        "GET /ui/sessions/{id}": "GET /api/v1/sessions/{id}",
        "GET /ui/invoices": "GET /api/v1/invoices",
        "GET /ui/invoices/{id}": "GET /api/v1/invoices/{id}",
        "POST /ui/invoices/{id}/payments": "POST /api/v1/invoices/{id}/payments",
        "POST /ui/invoices/{id}/void": "POST /api/v1/invoices/{id}/void",
        "GET /ui/drivers": "GET /api/v1/drivers",
        "POST /ui/drivers": "POST /api/v1/drivers",
        "GET /ui/drivers/{id}": "GET /api/v1/drivers/{id}",
        "POST /ui/tariffs": "POST /api/v1/tariffs",
        "POST /ui/tariffs/{id}/edit": "PATCH /api/v1/tariffs/{id}",
        "GET /ui/id-tags": "GET /api/v1/id-tags",
        "POST /ui/id-tags": "PUT /api/v1/id-tags/{idTag}",
        "POST /ui/id-tags/{idTag}/status": "PUT /api/v1/id-tags/{idTag}",
        "GET /ui/tariffs": "GET /api/v1/tariffs",
        "GET /ui/tariffs/{id}": "GET /api/v1/tariffs/{id}/quote",
        "GET /ui/alerts": "GET /api/v1/alerts",
        "POST /ui/alerts/{id}/acknowledge": "POST /api/v1/alerts/{id}/acknowledge",
        "POST /ui/alerts/{id}/resolve": "POST /api/v1/alerts/{id}/resolve",
        "GET /ui/analytics": "GET /api/v1/analytics/energy",
        "GET /ui/users": "GET /api/v1/users",
        "POST /ui/users": "POST /api/v1/users",
        "POST /ui/users/{id}/status": "PATCH /api/v1/users/{id}",
        "GET /ui/system": "GET /api/v1/services",
        "GET /ui/sites": "GET /api/v1/sites",
        "GET /ui/sites/{id}": "GET /api/v1/sites/{id}",
        "POST /ui/sites": "POST /api/v1/sites",
        "POST /ui/sites/{id}/edit": "PATCH /api/v1/sites/{id}",
        "GET /ui/reservations": "GET /api/v1/reservations",
        "POST /ui/reservations": "POST /api/v1/reservations",
        "POST /ui/reservations/{id}/cancel": "DELETE /api/v1/reservations/{id}",
        "GET /ui/audit": "GET /api/v1/audit",
        "GET /ui/audit/export.csv": "GET /api/v1/audit/export.csv",
    ]

    static let table: [String: Access] = [
        "GET /health": .anyone,
        "GET /health/ready": .anyone,
        "GET /metrics": .anyone,
        "GET /openapi.json": .anyone,

        "POST /api/v1/auth/register": .anyone,
        "POST /api/v1/auth/login": .anyone,
        "POST /api/v1/auth/refresh": .anyone,
        "POST /api/v1/auth/logout": .anyone,
        "POST /api/v1/auth/logout-all": .signedIn,
        "GET /api/v1/auth/me": .signedIn,

        "GET /api/v1/users": .admin,
        "POST /api/v1/users": .admin,
        "GET /api/v1/users/{id}": .admin,
        "PATCH /api/v1/users/{id}": .admin,
        "DELETE /api/v1/users/{id}": .admin,

        "GET /api/v1/services": .staff,
        "GET /api/v1/services/{name}": .staff,
        "POST /api/v1/services": .admin,
        "PUT /api/v1/services/{name}/heartbeat": .admin,
        "DELETE /api/v1/services/{name}": .admin,
        "GET /api/v1/services/{name}/discover": .staff,

        "GET /api/v1/stations": .signedIn,
        "GET /api/v1/stations/availability": .signedIn,
        "GET /api/v1/stations/{id}": .signedIn,
        "POST /api/v1/stations": .staff,
        "PATCH /api/v1/stations/{id}": .staff,
        "DELETE /api/v1/stations/{id}": .staff,
        "PUT /api/v1/stations/{id}/credentials": .staff,
        "DELETE /api/v1/stations/{id}/credentials": .staff,
        "POST /api/v1/stations/{id}/credentials/rotate": .staff,
        "POST /api/v1/stations/{id}/connectors": .staff,
        "PATCH /api/v1/stations/{id}/connectors/{connectorId}": .staff,
        "DELETE /api/v1/stations/{id}/connectors/{connectorId}": .staff,
        "GET /api/v1/stations/{id}/metrics": .staff,
        "GET /api/v1/stations/{id}/status-history": .staff,
        "GET /api/v1/stations/{id}/ocpp-log": .staff,
        "POST /api/v1/stations/{id}/ocpp/{action}": .staff,
        "POST /api/v1/stations/{id}/commands/{command}": .staff,
        "GET /api/v1/stations/{id}/local-list": .staff,
        "GET /api/v1/stations/{id}/charging-profiles": .staff,
        "POST /api/v1/stations/{id}/charging-profiles": .staff,
        "DELETE /api/v1/stations/{id}/charging-profiles": .staff,
        "GET /api/v1/stations/{id}/composite-schedule": .staff,
        "POST /api/v1/stations/{id}/firmware": .staff,
        "POST /api/v1/stations/{id}/signed-firmware": .staff,
        "POST /api/v1/stations/{id}/diagnostics": .staff,
        "POST /api/v1/stations/{id}/logs": .staff,
        "GET /api/v1/stations/{id}/jobs": .staff,
        "GET /api/v1/stations/{id}/jobs/{jobId}": .staff,
        "GET /api/v1/stations/{id}/jobs/{jobId}/file": .staff,
        "GET /api/v1/stations/{id}/security-events": .staff,
        "GET /api/v1/stations/{id}/certificates": .staff,
        "POST /api/v1/stations/{id}/certificates": .staff,
        "POST /api/v1/stations/{id}/certificates/installed-ids": .staff,
        "POST /api/v1/stations/{id}/certificates/delete": .staff,
        "GET /api/v1/certificate-authority": .staff,
        // A charger's upload: the single-use token in the URL is the credential.
        "PUT /api/v1/uploads/{token}": .anyone,
        "POST /api/v1/uploads/{token}": .anyone,
        "POST /api/v1/stations/{id}/local-list": .staff,

        "GET /api/v1/drivers": .staff,
        "POST /api/v1/drivers": .staff,
        "GET /api/v1/drivers/{id}": .signedIn,
        "PATCH /api/v1/drivers/{id}": .signedIn,
        "DELETE /api/v1/drivers/{id}": .staff,
        "GET /api/v1/drivers/{id}/id-tags": .signedIn,
        "GET /api/v1/me/driver": .signedIn,
        "POST /api/v1/me/charging/start": .signedIn,
        "POST /api/v1/me/charging/{sessionId}/stop": .signedIn,

        "GET /api/v1/id-tags": .staff,
        "GET /api/v1/id-tags/{idTag}": .signedIn,
        "PUT /api/v1/id-tags/{idTag}": .staff,
        "DELETE /api/v1/id-tags/{idTag}": .staff,
        "POST /api/v1/id-tags/{idTag}/authorize": .staff,

        "GET /api/v1/tariffs": .signedIn,
        "GET /api/v1/tariffs/{id}": .signedIn,
        "GET /api/v1/tariffs/{id}/quote": .signedIn,
        "POST /api/v1/tariffs": .staff,
        "PATCH /api/v1/tariffs/{id}": .staff,
        "DELETE /api/v1/tariffs/{id}": .staff,

        "GET /api/v1/sites": .staff,
        "GET /api/v1/sites/{id}": .staff,
        "POST /api/v1/sites": .staff,
        "PATCH /api/v1/sites/{id}": .staff,
        "DELETE /api/v1/sites/{id}": .staff,
        "GET /api/v1/sites/{id}/allocation": .staff,

        "GET /api/v1/reservations": .signedIn,
        "GET /api/v1/reservations/{id}": .signedIn,
        "POST /api/v1/reservations": .staff,
        "DELETE /api/v1/reservations/{id}": .signedIn,
        "POST /api/v1/me/reservations": .signedIn,

        "GET /api/v1/sessions": .signedIn,
        "GET /api/v1/sessions/{id}": .signedIn,
        "GET /api/v1/sessions/export.csv": .staff,
        "POST /api/v1/sessions": .staff,
        "POST /api/v1/sessions/{id}/stop": .staff,

        "GET /api/v1/invoices": .signedIn,
        "GET /api/v1/invoices/{id}": .signedIn,
        "POST /api/v1/invoices/{id}/payments": .signedIn,
        "POST /api/v1/invoices/{id}/void": .admin,

        "GET /api/v1/alerts": .staff,
        "POST /api/v1/alerts/{id}/acknowledge": .staff,
        "POST /api/v1/alerts/{id}/resolve": .staff,
        "GET /api/v1/events": .staff,

        "GET /api/v1/analytics/overview": .staff,
        "GET /api/v1/analytics/sessions": .staff,
        "GET /api/v1/analytics/utilization": .staff,
        "GET /api/v1/analytics/energy": .staff,
        "GET /api/v1/analytics/revenue": .staff,

        // Read only: no route changes or deletes an audit entry.
        "GET /api/v1/audit": .admin,
        "GET /api/v1/audit/export.csv": .admin,
    ]
}
