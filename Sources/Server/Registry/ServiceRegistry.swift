import Foundation
import Observability

/// What Consul did in the old design, in memory: the in-process services register at startup;
/// external services register over HTTP, renew with heartbeats and are polled at `{url}/health`.
actor ServiceRegistry {
    struct InternalService: Sendable {
        let name: String
        let version: String
        let basePath: String
        let healthCheck: HealthCheck
    }

    struct ExternalService: Sendable {
        let name: String
        var url: URL
        var metadata: [String: String]
        var ttl: Duration
        var registeredAt: Date
        var lastHeartbeatAt: Date
        var lastPoll: PollResult?
    }

    struct PollResult: Sendable {
        let at: Date
        let healthy: Bool
        let message: String
    }

    enum RegistrationOutcome: Sendable {
        case created, replaced
    }

    private var internalServices: [String: InternalService] = [:]
    private var externalServices: [String: ExternalService] = [:]
    private let environment: [String: String]
    private let now: @Sendable () -> Date
    private let probe: any HealthProbe

    init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        probe: any HealthProbe,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.environment = environment
        self.probe = probe
        self.now = now
    }

    func registerInternal(_ service: InternalService) {
        internalServices[service.name] = service
    }

    func registerExternal(name: String, url: URL, metadata: [String: String], ttl: Duration) throws -> RegistrationOutcome {
        guard internalServices[name] == nil else {
            throw RegistryError.inProcess(name, action: "registered externally")
        }
        let date = now()
        let outcome: RegistrationOutcome = externalServices[name] == nil ? .created : .replaced
        externalServices[name] = ExternalService(
            name: name, url: url, metadata: metadata, ttl: ttl, registeredAt: date, lastHeartbeatAt: date, lastPoll: nil)
        return outcome
    }

    func heartbeat(_ name: String) throws -> ServiceView {
        guard var service = externalServices[name] else { throw Self.notFound(name) }
        service.lastHeartbeatAt = now()
        externalServices[name] = service
        return view(of: service)
    }

    func deregister(_ name: String) throws {
        guard internalServices[name] == nil else {
            throw RegistryError.inProcess(name, action: "removed")
        }
        guard externalServices.removeValue(forKey: name) != nil else { throw Self.notFound(name) }
    }

    /// Every service with its current health; in-process checks run now, concurrently.
    func list() async -> [ServiceView] {
        let internals = Array(internalServices.values)
        var views = await withTaskGroup(of: ServiceView.self) { group in
            for service in internals {
                group.addTask { await Self.view(of: service) }
            }
            return await group.reduce(into: [ServiceView]()) { $0.append($1) }
        }
        views += externalServices.values.map(view(of:))
        return views.sorted { $0.name < $1.name }
    }

    func get(_ name: String) async throws -> ServiceView {
        if let service = internalServices[name] { return await Self.view(of: service) }
        if let service = externalServices[name] { return view(of: service) }
        throw Self.notFound(name)
    }

    /// A healthy instance's URL, else the `<NAME>_URL` environment variable, as the old design did.
    func discover(_ name: String, baseURL: URL?) async -> Discovery? {
        if let service = internalServices[name] {
            let view = await Self.view(of: service)
            if view.status == .healthy, let baseURL {
                return Discovery(name: name, url: baseURL.appendingPathComponent(service.basePath).absoluteString, source: .registry)
            }
        } else if let service = externalServices[name], isHealthy(service) {
            return Discovery(name: name, url: service.url.absoluteString, source: .registry)
        }
        let variable = name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.reduce("") { $0 + String($1) } + "_URL"
        if let url = environment[variable], !url.isEmpty {
            return Discovery(name: name, url: url, source: .environment)
        }
        return nil
    }

    /// Polls every external service's `/health` once, concurrently.
    func pollExternalServices(timeout: Duration) async {
        let targets = externalServices.values.map { ($0.name, $0.url) }
        let probe = self.probe
        let now = self.now
        let results = await withTaskGroup(of: (String, PollResult).self) { group in
            for (name, url) in targets {
                group.addTask {
                    let healthURL = url.appendingPathComponent("health")
                    do {
                        let status = try await probe.status(of: healthURL, timeout: timeout)
                        let healthy = (200..<300).contains(status)
                        return (name, PollResult(at: now(), healthy: healthy, message: "GET /health answered \(status)"))
                    } catch {
                        return (name, PollResult(at: now(), healthy: false, message: "GET /health failed: \(error)"))
                    }
                }
            }
            return await group.reduce(into: [(String, PollResult)]()) { $0.append($1) }
        }
        for (name, result) in results {
            externalServices[name]?.lastPoll = result
        }
    }

    // MARK: Views

    enum Health: String, Codable, Sendable {
        case healthy, degraded, unhealthy
    }

    struct ServiceView: Codable, Sendable {
        var name: String
        var kind: String
        var version: String?
        var basePath: String?
        var url: String?
        var metadata: [String: String]?
        var status: Health
        var message: String
        var ttlSeconds: Int?
        var registeredAt: Date?
        var lastHeartbeatAt: Date?
        var lastCheckedAt: Date?
        var checks: [String: HealthCheckResult]?
        var metrics: RequestMetrics.Stats?
    }

    struct Discovery: Codable, Sendable {
        enum Source: String, Codable, Sendable { case registry, environment }
        var name: String
        var url: String
        var source: Source
    }

    private static func view(of service: InternalService) async -> ServiceView {
        let result = await HealthMonitor.run(service.healthCheck)
        let status: Health =
            switch result.status {
            case .pass: .healthy
            case .warn: .degraded
            case .fail: .unhealthy
            }
        return ServiceView(
            name: service.name, kind: "internal", version: service.version, basePath: service.basePath,
            status: status, message: result.message, checks: [service.healthCheck.name: result])
    }

    private func isHealthy(_ service: ExternalService) -> Bool {
        heartbeatFresh(service) && service.lastPoll?.healthy != false
    }

    private func heartbeatFresh(_ service: ExternalService) -> Bool {
        now().timeIntervalSince(service.lastHeartbeatAt) <= Double(service.ttl.components.seconds)
    }

    private func view(of service: ExternalService) -> ServiceView {
        let message: String
        if !heartbeatFresh(service) {
            message = "no heartbeat within its TTL of \(service.ttl.components.seconds) s"
        } else if let poll = service.lastPoll {
            message = poll.message
        } else {
            message = "heartbeat current; not polled yet"
        }
        return ServiceView(
            name: service.name, kind: "external", url: service.url.absoluteString, metadata: service.metadata,
            status: isHealthy(service) ? .healthy : .unhealthy, message: message,
            ttlSeconds: Int(service.ttl.components.seconds), registeredAt: service.registeredAt,
            lastHeartbeatAt: service.lastHeartbeatAt, lastCheckedAt: service.lastPoll?.at)
    }

    private static func notFound(_ name: String) -> RegistryError {
        .notFound(name)
    }
}
