import Foundation
import JWTKit
import Logging
import NIOPosix
import Observability
import Prometheus
import Storage
import Tracing

/// What the process shares between services: made once at startup and handed to each
/// controller explicitly (there are no globals).
struct AppDependencies: Sendable {
    static let version = "0.1.0"

    let configuration: AppConfiguration
    let database: Database
    let keyValue: KeyValueStore
    let registry: ServiceRegistry
    let metrics: RequestMetrics
    let health: HealthMonitor
    /// Which service owns which route prefix, for per-service request metrics.
    let serviceRoutes: ServiceRouteMap
    let tokens: TokenService
    let auth: AuthService
    let webSessions: WebSessionService
    /// Per-node, in memory: several nodes would keep the buckets in the shared key/value store.
    let rateLimiter: RateLimiter
    let stations: StationRepository
    let drivers: DriverRepository
    let authorizer: IdTagAuthorizer
    let events: EventBus
    let monitoring: MonitoringService
    let sessions: SessionService
    let tariffs: TariffRepository
    let sites: SiteRepository
    let reservations: ReservationService
    let localLists: LocalListService
    let chargingProfiles: ChargingProfileService
    let loadManager: LoadManager
    let jobs: StationJobService
    let certificates: CertificateService
    let invoices: InvoiceService
    let analytics: AnalyticsService
    let idempotency: Idempotency
    let ocpp: OCPPService
    let audit: AuditRepository
    let now: @Sendable () -> Date
    /// Nil unless tracing is configured; see `TracingSettings`.
    var tracer: (any Tracer)? = nil

    /// Prepares the data directory and opens and migrates the database: all that a CLI command
    /// needs. Throws `StartupError` with a message meant for the operator.
    static func openDatabase(
        _ configuration: AppConfiguration, readers: Int? = nil, tracer: (any Tracer)? = nil
    ) async throws -> Database {
        try prepareDataDirectory(configuration.dataDirectory)
        do {
            return try await Database.open(
                path: configuration.databasePath, migrations: Schema.migrations,
                options: .init(
                    readerCount: readers ?? configuration.databaseReaders,
                    maximumPageCount: configuration.databaseMaxPageCount,
                    tracing: tracer.map { DatabaseSpans(tracer: $0) }),
                prepareWriter: AuditSchema.installTriggers)
        } catch {
            throw StartupError(databaseError: error, path: configuration.databasePath)
        }
    }

    /// Everything `serve` runs on: the database, the in-process services, and the start-up work
    /// that is right only when this process is about to accept connections (stations offline, the
    /// signing secret, the token revocations). CLI commands use `openDatabase` instead, so that
    /// they leave a running server's data alone.
    static func open(
        _ configuration: AppConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        now: @escaping @Sendable () -> Date = Date.init, tracer: (any Tracer)? = nil
    ) async throws -> AppDependencies {
        let database = try await openDatabase(configuration, tracer: tracer)
        let keyValue = KeyValueStore(database: database)
        try await markStationsOffline(database, at: now())
        let registry = ServiceRegistry(
            environment: environment, probe: HTTPHealthProbe(group: MultiThreadedEventLoopGroup.singleton))

        let databaseCheck = DatabaseHealthCheck.make(
            read: { _ = try await database.read { try $0.queryFirst("SELECT 1") { try $0.get(0, as: Int.self) } } },
            write: {
                try await keyValue.set("health:write-probe", "ok", ttl: .seconds(60))
                return try await database.pageBudget().availableBytes
            })
        let diskCheck = DiskSpaceHealthCheck.make(
            path: configuration.dataDirectory, warnPercent: configuration.diskWarnPercent,
            failPercent: configuration.diskFailPercent)
        let memoryCheck = MemoryHealthCheck.make(limitBytes: configuration.memoryLimitBytes)
        let health = HealthMonitor(checks: [databaseCheck, diskCheck, memoryCheck], version: version)

        let internalServices: [ServiceRegistry.InternalService] = [
            .init(name: "gateway", version: version, basePath: "/api/v1", healthCheck: databaseCheck),
            .init(
                name: "registry", version: version, basePath: "/api/v1/services",
                healthCheck: HealthCheck(name: "registry") {
                    HealthCheckResult(status: .pass, message: "in-process registry is answering")
                }),
            .init(name: "observability", version: version, basePath: "/health", healthCheck: memoryCheck),
            .init(name: "auth", version: version, basePath: "/api/v1/auth", healthCheck: databaseCheck),
            .init(name: "users", version: version, basePath: "/api/v1/users", healthCheck: databaseCheck),
            .init(name: "stations", version: version, basePath: "/api/v1/stations", healthCheck: databaseCheck),
            .init(name: "drivers", version: version, basePath: "/api/v1/drivers", healthCheck: databaseCheck),
            .init(name: "id-tags", version: version, basePath: "/api/v1/id-tags", healthCheck: databaseCheck),
            .init(name: "tariffs", version: version, basePath: "/api/v1/tariffs", healthCheck: databaseCheck),
            .init(name: "sessions", version: version, basePath: "/api/v1/sessions", healthCheck: databaseCheck),
            .init(name: "invoices", version: version, basePath: "/api/v1/invoices", healthCheck: databaseCheck),
            .init(name: "monitoring", version: version, basePath: "/api/v1/alerts", healthCheck: databaseCheck),
            .init(name: "analytics", version: version, basePath: "/api/v1/analytics", healthCheck: databaseCheck),
            .init(name: "sites", version: version, basePath: "/api/v1/sites", healthCheck: databaseCheck),
            .init(name: "reservations", version: version, basePath: "/api/v1/reservations", healthCheck: databaseCheck),
            .init(name: "ocpp", version: version, basePath: "/ocpp", healthCheck: databaseCheck),
        ]
        for service in internalServices {
            await registry.registerInternal(service)
        }
        let serviceRoutes = ServiceRouteMap(
            internalServices.map { ($0.basePath, $0.name) } + [
                ("/metrics", "observability"), ("/api/v1/me/driver", "drivers"), ("/api/v1/events", "monitoring"),
                ("/api/v1/me/charging", "ocpp"), ("/api/v1/me/reservations", "reservations"),
            ])

        let keys = JWTKeyCollection()
        await keys.add(
            hmac: HMACKey(from: try signingSecret(configuration)), digestAlgorithm: .sha256)
        let tokens = TokenService(
            keys: keys, accessTokenLifetime: configuration.accessTokenLifetime,
            refreshTokenLifetime: configuration.refreshTokenLifetime, revocations: TokenRevocations(),
            database: database, now: now)
        try await tokens.loadRevocations(from: keyValue)
        let hasher = PasswordHasher(cost: UInt8(configuration.bcryptCost))
        let auth = AuthService(
            accounts: AccountService(users: UserRepository(database: database), hasher: hasher, now: now),
            keyValue: keyValue, tokens: tokens, now: now, decoyHash: try await hasher.hash(Identifiers.randomToken()))
        let drivers = DriverRepository(database: database)
        let events = EventBus(tracer: tracer)
        let metricsRegistry = PrometheusCollectorRegistry()
        let stations = StationRepository(database: database)
        let monitoring = MonitoringService(
            database: database, events: events, offlineGrace: configuration.offlineGrace,
            sessionLimit: configuration.sessionMaxDuration, now: now)
        let sessions = SessionService(
            database: database, events: events, invoiceDueDays: configuration.invoiceDueDays,
            maxBillableDuration: TimeInterval(configuration.sessionMaxBillableDuration.components.seconds), now: now)
        let authorizer = IdTagAuthorizer(drivers: drivers, activeTransactions: ChargingSessionCounter(database: database), now: now)
        let recorder = OCPPRecorder(database: database)
        let reservations = ReservationRepository(database: database, events: events)
        let localLists = LocalListRepository(database: database)
        let chargingProfiles = ChargingProfileRepository(database: database)
        let loadSignal = LoadSignal()
        let jobs = StationJobRepository(database: database)
        let activity = ChargerActivity(
            stations: stations, sessions: sessions, monitoring: monitoring, authorizer: authorizer, reservations: reservations,
            load: loadSignal,
            jobs: StationJobReports(jobs: jobs, stations: stations, monitoring: monitoring, now: now), recorder: recorder, now: now)
        let audit = AuditRepository(database: database)
        let connections = ChargePointRegistry()
        let ocppMetrics = OCPPMetrics(registry: metricsRegistry)
        let commands = ChargePointCommands(
            connections: connections, stations: stations, reservations: reservations, localLists: localLists,
            chargingProfiles: chargingProfiles, jobs: jobs, certificates: CertificateRepository(database: database),
            monitoring: monitoring, audit: audit, metrics: ocppMetrics, logger: Logger(label: "ocpp.commands"), now: now)
        let certificates = CertificateService(
            authority: try certificateAuthority(configuration, now: now()),
            repository: commands.certificates, commands: commands, monitoring: monitoring,
            logger: Logger(label: "ocpp.certificates"), now: now)
        let ocpp = OCPPService(
            settings: configuration.ocpp, stations: stations, monitoring: monitoring,
            protocols: [
                OCPP16Handlers.registry(
                    activity: activity, dataTransfer: .standard, heartbeatInterval: configuration.ocpp.heartbeatInterval,
                    certificates: certificates)
            ],
            commands: commands, recorder: recorder, registry: connections, metrics: ocppMetrics, now: now,
            tracing: tracer.map { OCPPTracing(tracer: $0) })
        let chargingProfileService = ChargingProfileService(
            repository: chargingProfiles, stations: stations, sessions: sessions, commands: ocpp.commands, now: now)
        let loadManager = LoadManager(
            repository: LoadAllocationRepository(database: database), profiles: chargingProfileService,
            settings: .init(minimumPowerW: configuration.loadMinimumPowerW), logger: Logger(label: "load-management"), now: now)
        loadSignal.connect(loadManager)

        return AppDependencies(
            configuration: configuration, database: database, keyValue: keyValue, registry: registry,
            metrics: RequestMetrics(registry: metricsRegistry), health: health,
            serviceRoutes: serviceRoutes, tokens: tokens, auth: auth,
            webSessions: WebSessionService(
                database: database, revocations: tokens.revocations, lifetime: configuration.dashboard.sessionLifetime, now: now),
            rateLimiter: RateLimiter(rules: configuration.rateLimits.rules),
            stations: stations, drivers: drivers,
            authorizer: authorizer, events: events, monitoring: monitoring, sessions: sessions,
            tariffs: TariffRepository(database: database), sites: SiteRepository(database: database),
            reservations: ReservationService(
                reservations: reservations, stations: stations, drivers: drivers, authorizer: authorizer,
                commands: ocpp.commands, driverMaximum: configuration.reservationDriverMaximum, now: now),
            localLists: LocalListService(
                repository: localLists, stations: stations, commands: ocpp.commands, logger: Logger(label: "ocpp.local-lists"),
                now: now),
            chargingProfiles: chargingProfileService, loadManager: loadManager,
            jobs: StationJobService(
                repository: jobs, stations: stations, commands: ocpp.commands,
                settings: .init(
                    publicURL: configuration.publicURL
                        ?? "\(configuration.tls.enabled ? "https" : "http")://\(configuration.host):\(configuration.port)",
                    uploadDirectory: (configuration.dataDirectory as NSString).appendingPathComponent("uploads"),
                    uploadMaxBytes: configuration.uploadMaxBytes),
                now: now),
            certificates: certificates,
            invoices: InvoiceService(database: database, events: events, now: now),
            analytics: AnalyticsService(database: database, now: now), idempotency: Idempotency(keyValue: keyValue),
            ocpp: ocpp, audit: audit, now: now, tracer: tracer)
    }

    /// Our CA: the operator's files when configured, else the one in the data directory (made on
    /// first start).
    static func certificateAuthority(_ configuration: AppConfiguration, now: Date) throws -> CertificateAuthority {
        do {
            return try CertificateAuthority.load(
                directory: (configuration.dataDirectory as NSString).appendingPathComponent("ca"),
                certificatePath: configuration.tls.caCertificate, keyPath: configuration.tls.caKey, now: now)
        } catch {
            throw StartupError("cannot load the certificate authority: \(error)")
        }
    }

    /// No charger is connected before the server starts: stations still marked online (a crash, or
    /// a shutdown that cut connections) go offline, with a history entry so the offline alert can
    /// fire if they do not come back.
    private static func markStationsOffline(_ database: Database, at: Date) async throws {
        try await database.write { connection in
            try connection.run(
                """
                INSERT INTO status_history (station_id, connector_id, kind, previous, current, source, at)
                SELECT id, 0, 'connectivity', 'online', 'offline', 'startup', ? FROM stations WHERE online = 1
                """, at)
            try connection.run("UPDATE stations SET online = 0 WHERE online = 1")
        }
    }

    /// The configured secret, or one generated on first start and kept (owner-only) in the data
    /// directory, so that restarts keep sessions valid.
    private static func signingSecret(_ configuration: AppConfiguration) throws -> String {
        if let secret = configuration.jwtSecret { return secret }
        let path = (configuration.dataDirectory as NSString).appendingPathComponent("jwt-secret")
        if let data = FileManager.default.contents(atPath: path) {
            let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard secret.utf8.count >= 32 else {
                throw StartupError("\(path) holds a signing secret shorter than 32 bytes; remove it to generate a new one")
            }
            return secret
        }
        let secret = Identifiers.randomToken(bytes: 48)
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        else { throw StartupError("cannot write the signing secret to \(path)") }
        return secret
    }

    /// Creates the data directory owner-only (0700) and takes group and other access away from an
    /// existing one: it holds the database and the signing secret.
    private static func prepareDataDirectory(_ path: String) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try OwnerOnlyFiles.restrict(path)
        } catch {
            throw StartupError("cannot create the data directory \(path): \(error)")
        }
        let probe = (path as NSString).appendingPathComponent(".write-probe-\(getpid())")
        guard manager.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            throw StartupError("the data directory \(path) is not writable")
        }
        try? manager.removeItem(atPath: probe)
    }
}

/// A reason the server cannot start, worded for the operator; printed as one line.
struct StartupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    init(databaseError error: any Error, path: String) {
        switch error {
        case let error as SchemaTooNewError:
            description = error.description
        case let error as SQLiteError where error.kind == .notADatabase || error.kind == .corrupt:
            description =
                "the database file \(path) is corrupt or not a SQLite database (\(error.message)); "
                + "restore a backup or move the file away"
        default:
            description = "cannot open the database \(path): \(error)"
        }
    }
}
