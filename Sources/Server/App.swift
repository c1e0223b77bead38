import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import Observability
import Prometheus
import ServiceLifecycle
import Storage
import Tracing

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "EV-charging backend (CSMS): REST API and OCPP central system on one SQLite file.",
        version: AppDependencies.version,
        subcommands: [Serve.self, Migrate.self, Backup.self, Check.self, UserCommand.self, IssueServerCertificate.self],
        defaultSubcommand: Serve.self)
}

/// Every configuration key as a flag. Values stay strings here so that flags, environment and
/// file are typed and validated in one place, with one kind of error message.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "JSON config file; flags and CSMS_* environment variables override it")
    var config: String?
    @Option(help: "Data directory (default ./data; env CSMS_DATA)") var data: String?
    @Option(help: "Listen address (default 127.0.0.1; env CSMS_HOST)") var host: String?
    @Option(help: "Listen port, 0 for any free port (default 8080; env CSMS_PORT)") var port: String?
    @Option(help: "trace|debug|info|notice|warning|error|critical (default info)") var logLevel: String?
    @Option(help: "json|text (default json)") var logFormat: String?
    @Option(help: "Largest request body in bytes (default 1048576)") var maxBodyBytes: String?
    @Option(help: "Seconds a request head may take to arrive (default 10)") var httpHeaderTimeoutSeconds: String?
    @Option(help: "Seconds of silence allowed reading a body or between requests (default 60)") var httpIdleTimeoutSeconds: String?
    @Option(help: "Largest request line plus headers in bytes; more is 431 (default 32768)") var httpMaxHeaderBytes: String?
    @Option(help: "Open connections above which new ones get 503 (default 16384)") var httpMaxConnections: String?
    @Option(help: "Read-only database connections, 1–16 (default 2)") var dbReaders: String?
    @Option(help: "Largest database size in 4 KiB pages, 0 for no limit (default 0)") var dbMaxPageCount: String?
    @Option(help: "Disk use % above which /health/ready warns (default 90)") var diskWarnPercent: String?
    @Option(help: "Disk use % above which /health/ready fails (default 95)") var diskFailPercent: String?
    @Option(help: "Memory limit for the health check, bytes (default: machine or cgroup)") var memoryLimitBytes: String?
    @Option(help: "Seconds between polls of external services' /health (default 10)") var registryPollSeconds: String?
    @Option(help: "Seconds between sweeps of expired key/value entries (default 60)") var kvSweepSeconds: String?
    @Option(help: "Seconds in-flight requests get at shutdown (default 10)") var shutdownTimeoutSeconds: String?
    @Option(help: "Access token lifetime in seconds (default 900)") var accessTokenTtlSeconds: String?
    @Option(help: "Refresh token lifetime in days (default 30)") var refreshTokenTtlDays: String?
    @Option(help: "bcrypt cost for passwords, 4–16 (default 10)") var bcryptCost: String?
    @Option(help: "First admin's email (its password only via CSMS_ADMIN_PASSWORD or the file)") var adminEmail: String?
    @Option(help: "Minutes offline before a station alert (default 5)") var offlineGraceMinutes: String?
    @Option(help: "Hours active before a long-session alert (default 24)") var sessionMaxHours: String?
    @Option(help: "Hours after which a session is not invoiced automatically (default 168)")
    var sessionMaxBillableHours: String?
    @Option(help: "Seconds between monitoring checks (default 30)") var monitorIntervalSeconds: String?
    @Option(help: "Days until an invoice is due (default 14)") var invoiceDueDays: String?
    @Option(help: "Seconds between SSE heartbeat comments (default 15)") var eventHeartbeatSeconds: String?
    @Option(help: "Heartbeat interval told to chargers (default 300)") var ocppHeartbeatIntervalSeconds: String?
    @Option(help: "WebSocket ping interval, 0 for none (default 30)") var ocppPingIntervalSeconds: String?
    @Option(help: "Seconds a CALL to a charger waits (default 30)") var ocppCallTimeoutSeconds: String?
    @Option(help: "CALLs that may wait per charger (default 16)") var ocppOutboundQueueSize: String?
    @Option(help: "Largest charger message in bytes (default 65536)") var ocppMaxFrameBytes: String?
    @Option(help: "true: unknown chargers are created as pending (default false)") var ocppAutoRegister: String?
    @Option(help: "Days OCPP messages are kept (default 30)") var ocppMessageRetentionDays: String?
    @Option(help: "Days audit entries are kept, 0 for forever (default 0)") var auditRetentionDays: String?
    @Option(help: "true|false: serve the dashboard at /ui (default true)") var uiEnabled: String?
    @Option(help: "Hours a dashboard sign-in lasts (default 12)") var uiSessionHours: String?
    @Option(help: "IANA zone of the dashboard's times (default UTC)") var displayTimeZone: String?
    @Option(help: "Longest driver reservation in minutes (default 30)") var reservationMaxMinutes: String?
    @Option(help: "Seconds between local list syncs of stale stations (default 60)") var localListSyncSeconds: String?
    @Option(help: "Least power a charging car gets under load management, W (default 4140)") var loadMinimumPowerW: String?
    @Option(help: "Seconds between load management passes (default 5)") var loadManagementSeconds: String?
    @Option(help: "How chargers reach this server, e.g. https://csms.example.com") var publicUrl: String?
    @Option(help: "Largest charger upload in MB (default 50)") var uploadMaxMegabytes: String?
    @Option(help: "PEM certificate chain: serve HTTPS and WSS") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert") var tlsKey: String?
    @Option(help: "PEM CA of chargers' client certificates (default: our CA)") var tlsClientCa: String?
    @Option(help: "PEM certificate of the CA that signs chargers' certificates (default DATA/ca/ca.pem)") var caCert: String?
    @Option(help: "PEM private key of --ca-cert (default DATA/ca/ca-key.pem)") var caKey: String?
    @Option(help: "Sign-ins per client address: QUOTA/WINDOWs or off (default 20/60s)") var rateLimitAuth: String?
    @Option(help: "Reads per user: QUOTA/WINDOWs or off (default 1200/60s)") var rateLimitReads: String?
    @Option(help: "Changes per user: QUOTA/WINDOWs or off (default 300/60s)") var rateLimitWrites: String?
    @Option(help: "Charger commands per user: QUOTA/WINDOWs or off (default 60/60s)") var rateLimitCommands: String?
    @Option(help: "Exports per user: QUOTA/WINDOWs or off (default 20/60s)") var rateLimitExports: String?
    @Option(help: "Comma-separated proxy addresses whose X-Forwarded-For is believed") var trustedProxies: String?
    @Option(help: "CALLs per second a charger may send before answers are delayed, 0: off (default 50)")
    var ocppMaxMessagesPerSecond: String?
    @Option(help: "OTLP/HTTP base URL, e.g. http://127.0.0.1:4318: send traces there (default off)") var otlpEndpoint: String?
    @Option(help: "service.name of the traces (default csms)") var otelServiceName: String?

    func sources(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConfigurationSources {
        var sources = ConfigurationSources()
        let flags: [(ConfigurationKey, String?)] = [
            (.data, data), (.host, host), (.port, port), (.logLevel, logLevel), (.logFormat, logFormat),
            (.maxBodyBytes, maxBodyBytes),
            (.httpHeaderTimeoutSeconds, httpHeaderTimeoutSeconds), (.httpIdleTimeoutSeconds, httpIdleTimeoutSeconds),
            (.httpMaxHeaderBytes, httpMaxHeaderBytes), (.httpMaxConnections, httpMaxConnections),
            (.dbReaders, dbReaders), (.dbMaxPageCount, dbMaxPageCount), (.diskWarnPercent, diskWarnPercent),
            (.diskFailPercent, diskFailPercent), (.memoryLimitBytes, memoryLimitBytes),
            (.registryPollSeconds, registryPollSeconds), (.kvSweepSeconds, kvSweepSeconds),
            (.shutdownTimeoutSeconds, shutdownTimeoutSeconds), (.accessTokenTtlSeconds, accessTokenTtlSeconds),
            (.refreshTokenTtlDays, refreshTokenTtlDays), (.bcryptCost, bcryptCost), (.adminEmail, adminEmail),
            (.offlineGraceMinutes, offlineGraceMinutes), (.sessionMaxHours, sessionMaxHours),
            (.monitorIntervalSeconds, monitorIntervalSeconds), (.invoiceDueDays, invoiceDueDays),
            (.eventHeartbeatSeconds, eventHeartbeatSeconds), (.ocppHeartbeatIntervalSeconds, ocppHeartbeatIntervalSeconds),
            (.ocppPingIntervalSeconds, ocppPingIntervalSeconds), (.ocppCallTimeoutSeconds, ocppCallTimeoutSeconds),
            (.ocppOutboundQueueSize, ocppOutboundQueueSize), (.ocppMaxFrameBytes, ocppMaxFrameBytes),
            (.ocppAutoRegister, ocppAutoRegister), (.ocppMessageRetentionDays, ocppMessageRetentionDays),
            (.auditRetentionDays, auditRetentionDays),
            (.sessionMaxBillableHours, sessionMaxBillableHours), (.uiEnabled, uiEnabled), (.uiSessionHours, uiSessionHours),
            (.displayTimeZone, displayTimeZone), (.reservationMaxMinutes, reservationMaxMinutes),
            (.localListSyncSeconds, localListSyncSeconds), (.loadMinimumPowerW, loadMinimumPowerW),
            (.loadManagementSeconds, loadManagementSeconds), (.publicUrl, publicUrl), (.uploadMaxMegabytes, uploadMaxMegabytes),
            (.tlsCert, tlsCert), (.tlsKey, tlsKey), (.tlsClientCa, tlsClientCa), (.caCert, caCert), (.caKey, caKey),
            (.rateLimitAuth, rateLimitAuth), (.rateLimitReads, rateLimitReads), (.rateLimitWrites, rateLimitWrites),
            (.rateLimitCommands, rateLimitCommands), (.rateLimitExports, rateLimitExports), (.trustedProxies, trustedProxies),
            (.ocppMaxMessagesPerSecond, ocppMaxMessagesPerSecond),
            (.otlpEndpoint, otlpEndpoint), (.otelServiceName, otelServiceName),
        ]
        for (key, value) in flags {
            if let value { sources.flags[key.name] = value }
        }
        sources.environment = environment.filter { $0.key.hasPrefix("CSMS_") }
        if let file = config ?? environment["CSMS_CONFIG"] {
            try sources.loadFile(file)
        }
        return sources
    }

    /// Loads the configuration, or prints the one-line reason and exits with EX_CONFIG (78).
    func load() throws -> (AppConfiguration, ConfigurationSources) {
        do {
            let sources = try sources()
            return (try AppConfiguration.load(from: sources), sources)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}

/// Prints an operator-facing failure as one line and exits non-zero.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode.failure
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let (configuration, sources) = try options.load()
        // With tracing on, every line logged inside a span carries its traceId and spanId.
        LoggingSystem.bootstrap(
            { label, metadataProvider in
                var handler = LineLogHandler(label: label, format: configuration.logFormat, level: configuration.logLevel)
                handler.metadataProvider = metadataProvider
                return handler
            }, metadataProvider: configuration.tracing.enabled ? TracingSettings.logMetadata : nil)
        var logger = Logger(label: "csms")
        logger.logLevel = configuration.logLevel
        logger.info(
            "starting", metadata: ["version": .string(AppDependencies.version),
                                   "configuration": .dictionary(AppConfiguration.describe(sources).mapValues { .string($0) })])
        // The database, the WAL and the listening socket need descriptors beyond the connections.
        if let openFiles = OpenFileLimit.raiseToMaximum(), openFiles < configuration.http.maxConnections + 64 {
            logger.warning(
                "the open-file limit is below httpMaxConnections; connections beyond it will fail to be accepted",
                metadata: ["openFileLimit": .stringConvertible(openFiles),
                           "httpMaxConnections": .stringConvertible(configuration.http.maxConnections)])
        }

        let tracing: (tracer: any Tracer, exporter: any Service)?
        do {
            tracing = try configuration.tracing.makeTracer(logger: logger)
        } catch {
            throw fail("cannot set up tracing: \(error)")
        }
        let dependencies: AppDependencies
        do {
            dependencies = try await AppDependencies.open(configuration, tracer: tracing?.tracer)
        } catch let error as StartupError {
            throw fail(error.description)
        }
        // Library metrics (swift-metrics) land in the same registry as ours, on one /metrics.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: dependencies.metrics.registry))

        let tls: NIOSSLContext?
        do {
            tls = try ServerTLS.context(configuration.tls, authority: dependencies.certificates.authority)
        } catch {
            throw fail("cannot set up TLS: \(error)")
        }
        let app = buildApplication(dependencies, logger: logger, tls: tls)
        var groupConfiguration = ServiceGroupConfiguration(
            // The exporter first, so that it stops last and sends the app's last spans.
            services: (tracing.map { [$0.exporter] } ?? []) + [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            await dependencies.database.close()
            throw fail("cannot listen on \(configuration.host):\(configuration.port): the address is already in use")
        } catch {
            await dependencies.database.close()
            if "\(error)".contains("Address already in use") {
                throw fail("cannot listen on \(configuration.host):\(configuration.port): the address is already in use")
            }
            throw fail("the server stopped: \(error)")
        }
        logger.info("stopped")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let (configuration, _) = try options.load()
        let before = try await schemaVersion(of: configuration)
        do {
            try await AppDependencies.openDatabase(configuration, readers: 1).close()
        } catch let error as StartupError {
            throw fail(error.description)
        }
        let latest = Migrator(migrations: Schema.migrations).latestVersion
        print(before == latest ? "schema is up to date at version \(latest)" : "migrated schema from version \(before) to \(latest)")
    }

    private func schemaVersion(of configuration: AppConfiguration) async throws -> Int {
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else { return 0 }
        let database = try await openExisting(configuration)
        defer { Task { await database.close() } }
        return try await database.read { try Migrator.currentVersion(of: $0) }
    }
}

/// Opens an existing database without migrating it (backup and check leave the schema alone).
func openExisting(_ configuration: AppConfiguration) async throws -> Database {
    guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
        throw fail("no database at \(configuration.databasePath)")
    }
    do {
        return try await Database.open(
            path: configuration.databasePath, migrations: Schema.migrations, migrate: false,
            options: .init(readerCount: 1))
    } catch {
        throw fail(StartupError(databaseError: error, path: configuration.databasePath).description)
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database while the server keeps running.")
    @OptionGroup var options: ConfigurationOptions
    @Option(help: "Where to write the copy; must not exist yet") var to: String

    func run() async throws {
        let (configuration, _) = try options.load()
        guard !FileManager.default.fileExists(atPath: to) else {
            throw fail("\(to) already exists; choose a new file name")
        }
        let database = try await openExisting(configuration)
        do {
            try await database.backup(to: to)
        } catch {
            await database.close()
            throw fail("backup failed: \(error)")
        }
        await database.close()
        let copy = try await Database.open(path: to, migrations: Schema.migrations, migrate: false)
        let report = try await copy.integrityCheck()
        await copy.close()
        guard report.ok else {
            throw fail("the copy at \(to) failed its integrity check: \(report.problems.joined(separator: "; "))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: to)[.size] as? Int) ?? 0
        print("backup written to \(to) (\(size) bytes); integrity check ok")
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the database's integrity and foreign keys; exit 1 if anything is wrong.")
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let (configuration, _) = try options.load()
        let database = try await openExisting(configuration)
        let report: IntegrityReport
        let version: Int
        do {
            report = try await database.integrityCheck()
            version = try await database.read { try Migrator.currentVersion(of: $0) }
        } catch {
            await database.close()
            throw fail("integrity check could not run: \(error)")
        }
        await database.close()
        guard report.ok else {
            throw fail("\(configuration.databasePath) has problems:\n" + report.problems.joined(separator: "\n"))
        }
        print("\(configuration.databasePath): ok (schema version \(version))")
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage accounts from the command line.", subcommands: [AddUser.self])
}

struct AddUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Create an account; the password is read from standard input.")
    @OptionGroup var options: ConfigurationOptions
    @Option(help: "admin, operator or driver") var role: String
    @Option(help: "The account's email") var email: String
    @Option(help: "Display name (default: the email)") var name: String?

    func run() async throws {
        let (configuration, _) = try options.load()
        guard let role = Role(rawValue: role) else { throw fail("--role must be admin, operator or driver") }
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            throw fail("give the password on standard input, e.g. `read -s P; echo \"$P\" | server user add …`")
        }
        // Checked before the database is touched: a refused password changes nothing.
        do {
            try AccountService.validate(email: email, password: password, name: name ?? email)
        } catch let error as AuthError {
            throw fail(error.description)
        }
        // Only the database and the account service: a server may be running on this data
        // directory, and `serve`'s start-up work (stations offline, …) must not touch it.
        let database: Database
        do {
            database = try await AppDependencies.openDatabase(configuration, readers: 1)
        } catch let error as StartupError {
            throw fail(error.description)
        }
        let accounts = AccountService(
            users: UserRepository(database: database), hasher: PasswordHasher(cost: UInt8(configuration.bcryptCost)),
            now: Date.init)
        do {
            // Audited like the API's user creation; the actor is whoever runs the command, unknown here.
            let (user, _) = try await AuditAttribution(route: "cli: user add", at: Date()).bound {
                try await accounts.create(email: email, password: password, name: name ?? email, role: role)
            }
            await database.close()
            print("created \(role.rawValue) \(user.email) (id \(user.id))")
        } catch let error as AuthError {
            await database.close()
            throw fail(error.description)
        }
    }
}
