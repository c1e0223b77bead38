import Foundation
import Logging
import NIOPosix
import Observability
import Prometheus
import Storage

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

    /// Prepares the data directory, opens and migrates the database, registers the in-process
    /// services. Throws `StartupError` with a message meant for the operator.
    static func open(
        _ configuration: AppConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> AppDependencies {
        try prepareDataDirectory(configuration.dataDirectory)
        let database: Database
        do {
            database = try await Database.open(
                path: configuration.databasePath, migrations: Schema.migrations,
                options: .init(readerCount: configuration.databaseReaders))
        } catch {
            throw StartupError(databaseError: error, path: configuration.databasePath)
        }
        let keyValue = KeyValueStore(database: database)
        let registry = ServiceRegistry(
            environment: environment, probe: HTTPHealthProbe(group: MultiThreadedEventLoopGroup.singleton))

        let databaseCheck = DatabaseHealthCheck.make(
            read: { _ = try await database.read { try $0.queryFirst("SELECT 1") { try $0.get(0, as: Int.self) } } },
            write: { try await keyValue.set("health:write-probe", "ok", ttl: .seconds(60)) })
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
        ]
        for service in internalServices {
            await registry.registerInternal(service)
        }
        let serviceRoutes = ServiceRouteMap(
            internalServices.map { ($0.basePath, $0.name) } + [("/metrics", "observability")])

        return AppDependencies(
            configuration: configuration, database: database, keyValue: keyValue, registry: registry,
            metrics: RequestMetrics(registry: PrometheusCollectorRegistry()), health: health,
            serviceRoutes: serviceRoutes)
    }

    private static func prepareDataDirectory(_ path: String) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StartupError("cannot create the data directory \(path): \(error.localizedDescription)")
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
