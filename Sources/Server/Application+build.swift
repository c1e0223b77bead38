import Hummingbird
import NIOSSL
import Logging
import Observability
import ServiceLifecycle

/// The whole server as one Hummingbird application: gateway middleware, every service's routes
/// and the background tasks.
func buildApplication(_ dependencies: AppDependencies, logger: Logger, tls: NIOSSLContext? = nil) -> some ApplicationProtocol {
    let configuration = dependencies.configuration
    let router = buildRouter(dependencies)
    let ocpp = dependencies.ocpp
    var app = Application(
        router: router,
        server: .ocpp(
            limits: configuration.http, maxFrameSize: configuration.ocpp.maxFrameSize, tls: tls,
            decide: { await ocpp.decide($0, security: $1) },
            attach: { channel, acceptance, logger in try ocpp.attach(channel, acceptance, logger: logger) },
            connected: { connection, channel, logger in await ocpp.connected(connection, channel: channel, logger: logger) }),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        logger: logger)
    app.beforeServerStarts {
        try await dependencies.auth.bootstrapAdmin(
            email: configuration.adminEmail, password: configuration.adminPassword, logger: logger)
    }
    // Listed first so that it stops last: the database outlives every user of it.
    app.addServices(DatabaseService(database: dependencies.database, logger: logger))
    app.addServices(
        PeriodicTask(name: "key/value sweep", interval: configuration.keyValueSweepInterval, logger: logger) {
            try await dependencies.keyValue.sweepExpired()
        },
        PeriodicTask(name: "registry poll", interval: configuration.registryPollInterval, logger: logger) {
            await dependencies.registry.pollExternalServices(timeout: .seconds(2))
        },
        PeriodicTask(name: "monitoring checks", interval: configuration.monitorInterval, logger: logger) {
            try await dependencies.monitoring.runChecks()
        },
        PeriodicTask(name: "reservation expiry", interval: .seconds(5), logger: logger) {
            try await dependencies.reservations.reservations.expireDue(now: dependencies.now())
        },
        PeriodicTask(name: "local list sync", interval: configuration.localListSyncInterval, logger: logger) {
            try await dependencies.localLists.syncStale()
        },
        PeriodicTask(name: "load management", interval: configuration.loadManagementInterval, logger: logger) {
            try await dependencies.loadManager.rebalanceAll()
        },
        PeriodicTask(name: "certificate expiry", interval: .seconds(3600), logger: logger) {
            try await dependencies.certificates.checkExpiring()
        },
        PeriodicTask(name: "rate limit sweep", interval: .seconds(60), logger: logger) {
            dependencies.rateLimiter.sweep(now: MonotonicSeconds.now())
        },
        PeriodicTask(name: "dashboard session sweep", interval: .seconds(3600), logger: logger) {
            try await dependencies.webSessions.sweep()
        },
        PeriodicTask(name: "OCPP log retention", interval: .seconds(3600), logger: logger) {
            try await dependencies.ocpp.recorder.prune(
                before: dependencies.now().addingTimeInterval(-Double(configuration.ocppMessageRetention.components.seconds)))
        },
        PeriodicTask(name: "audit retention", interval: .seconds(3600), logger: logger) {
            guard let retention = configuration.auditRetention else { return }
            let now = dependencies.now()
            try await dependencies.audit.prune(before: now.addingTimeInterval(-Double(retention.components.seconds)), now: now)
        },
        RecorderService(recorder: dependencies.ocpp.recorder, interval: .milliseconds(250), logger: logger))
    return app
}

/// `routeTable` receives every route added: for 405 answers, the role table tests, and the tests
/// that compare the routes with the OpenAPI document.
func buildRouter(_ dependencies: AppDependencies, routeTable: RouteTable = RouteTable()) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    let routes = RecordingRouter(router: router, table: routeTable)
    if let tracer = dependencies.tracer { routes.add(middleware: HTTPTracingMiddleware(tracer: tracer)) }
    routes.add(middleware: RequestIDMiddleware())
    routes.add(middleware: RequestMetricsMiddleware(metrics: dependencies.metrics, services: dependencies.serviceRoutes))
    routes.add(middleware: ProblemMiddleware(routes: routes.table))
    routes.add(middleware: ClientAddressMiddleware(trustedProxies: dependencies.configuration.trustedProxies))
    routes.add(middleware: BodyLimitMiddleware(maxBytes: dependencies.configuration.maxBodyBytes))
    routes.add(middleware: AuthenticationMiddleware(tokens: dependencies.tokens))
    routes.add(middleware: DashboardMiddleware(sessions: dependencies.webSessions))
    if let tracer = dependencies.tracer { routes.add(middleware: SpanRoleMiddleware(tracer: tracer)) }
    routes.add(
        middleware: RateLimitMiddleware(
            limiter: dependencies.rateLimiter, registry: dependencies.metrics.registry))
    routes.add(middleware: RoutePolicyMiddleware())
    routes.add(middleware: AuditAttributionMiddleware(tracer: dependencies.tracer, now: dependencies.now))

    let now = dependencies.now
    SystemController(health: dependencies.health, metrics: dependencies.metrics).addRoutes(to: routes)
    RegistryController(registry: dependencies.registry, metrics: dependencies.metrics).addRoutes(to: routes)
    AuthController(service: dependencies.auth).addRoutes(to: routes)
    UsersController(service: dependencies.auth).addRoutes(to: routes)
    let ocppController = OCPPController(
        ocpp: dependencies.ocpp, stations: dependencies.stations, sessions: dependencies.sessions,
        drivers: dependencies.drivers, authorizer: dependencies.authorizer, now: now)
    StationsController(
        repository: dependencies.stations, connectorStatusChanges: dependencies.monitoring,
        connectionInfo: { try await ocppController.connectionInfo($0) },
        enforceSecurityProfile: { ocppController.enforceSecurityProfile($0, $1) }, now: now
    ).addRoutes(to: routes)
    DriversController(repository: dependencies.drivers, now: now).addRoutes(to: routes)
    IdTagsController(repository: dependencies.drivers, authorizer: dependencies.authorizer, now: now)
        .addRoutes(to: routes)
    TariffsController(tariffs: dependencies.tariffs, now: now).addRoutes(to: routes)
    SitesController(sites: dependencies.sites, now: now).addRoutes(to: routes)
    ReservationsController(service: dependencies.reservations, drivers: dependencies.drivers).addRoutes(to: routes)
    LocalListController(service: dependencies.localLists).addRoutes(to: routes)
    ChargingProfilesController(service: dependencies.chargingProfiles).addRoutes(to: routes)
    LoadManagementController(repository: dependencies.loadManager.repository).addRoutes(to: routes)
    StationJobsController(service: dependencies.jobs).addRoutes(to: routes)
    CertificatesController(service: dependencies.certificates, stations: dependencies.stations).addRoutes(to: routes)
    SessionsController(sessions: dependencies.sessions, idempotency: dependencies.idempotency).addRoutes(to: routes)
    InvoicesController(invoices: dependencies.invoices, idempotency: dependencies.idempotency).addRoutes(to: routes)
    MonitoringController(
        monitoring: dependencies.monitoring, events: dependencies.events,
        heartbeatInterval: dependencies.configuration.eventHeartbeat
    ).addRoutes(to: routes)
    AnalyticsController(analytics: dependencies.analytics, stations: dependencies.stations).addRoutes(to: routes)
    ocppController.addRoutes(to: routes)
    AuditController(audit: dependencies.audit).addRoutes(to: routes)
    if dependencies.configuration.dashboard.enabled {
        DashboardController(dependencies: dependencies, ocpp: ocppController).addRoutes(to: routes)
    }
    return router
}
