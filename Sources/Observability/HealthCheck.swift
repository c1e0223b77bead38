import Foundation
import Synchronization

public enum HealthCheckStatus: String, Sendable, Codable, Comparable {
    case pass, warn, fail

    private var severity: Int {
        switch self {
        case .pass: 0
        case .warn: 1
        case .fail: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.severity < rhs.severity }
}

public enum OverallHealth: String, Sendable, Codable {
    case healthy, degraded, unhealthy
}

/// What one check found. `responseTimeMs` is filled in by the monitor.
public struct HealthCheckResult: Sendable, Codable, Equatable {
    public var status: HealthCheckStatus
    public var message: String
    public var responseTimeMs: Double
    public var metadata: [String: String]

    public init(status: HealthCheckStatus, message: String, metadata: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.responseTimeMs = 0
        self.metadata = metadata
    }
}

/// A named check registered at startup.
public struct HealthCheck: Sendable {
    public let name: String
    public let timeout: Duration
    public let run: @Sendable () async throws -> HealthCheckResult

    public init(name: String, timeout: Duration = .seconds(2), run: @escaping @Sendable () async throws -> HealthCheckResult) {
        self.name = name
        self.timeout = timeout
        self.run = run
    }
}

public struct HealthReport: Sendable, Codable {
    public var status: OverallHealth
    public var checks: [String: HealthCheckResult]
    public var uptimeSeconds: Int
    public var version: String

    /// `unhealthy` if any check fails, `degraded` if any warns, else `healthy`.
    public static func overall(of results: some Collection<HealthCheckResult>) -> OverallHealth {
        switch results.map(\.status).max() ?? .pass {
        case .pass: .healthy
        case .warn: .degraded
        case .fail: .unhealthy
        }
    }
}

/// Runs the registered checks concurrently. A check that throws, or does not answer within its
/// timeout, counts as `fail`.
public struct HealthMonitor: Sendable {
    public let checks: [HealthCheck]
    public let version: String
    private let startedAt: ContinuousClock.Instant

    public init(checks: [HealthCheck], version: String, startedAt: ContinuousClock.Instant = .now) {
        self.checks = checks
        self.version = version
        self.startedAt = startedAt
    }

    public var uptimeSeconds: Int {
        Int((ContinuousClock.now - startedAt).components.seconds)
    }

    public func report() async -> HealthReport {
        let results = await withTaskGroup(of: (String, HealthCheckResult).self) { group in
            for check in checks {
                group.addTask { (check.name, await Self.run(check)) }
            }
            var results: [String: HealthCheckResult] = [:]
            for await (name, result) in group { results[name] = result }
            return results
        }
        return HealthReport(
            status: HealthReport.overall(of: results.values), checks: results, uptimeSeconds: uptimeSeconds,
            version: version)
    }

    /// Answers within the check's timeout even when the check cannot be cancelled (a probe stuck
    /// behind a stalled database writer): the check runs in a task of its own, which is cancelled
    /// and left to finish by itself when the timer wins. A task group would wait for it instead.
    public static func run(_ check: HealthCheck) async -> HealthCheckResult {
        let clock = ContinuousClock()
        let start = clock.now
        var result = await withCheckedContinuation { (continuation: CheckedContinuation<HealthCheckResult, Never>) in
            let answer = FirstAnswer(continuation)
            let timer = Task {
                try? await Task.sleep(for: check.timeout)
                return answer.give(
                    HealthCheckResult(
                        status: .fail, message: "check did not answer within \(Int(check.timeout.milliseconds)) ms"))
            }
            let work = Task {
                let result: HealthCheckResult
                do {
                    result = try await check.run()
                } catch {
                    result = HealthCheckResult(status: .fail, message: "check failed: \(error)")
                }
                if answer.give(result) { timer.cancel() }
            }
            Task {
                if await timer.value { work.cancel() }
            }
        }
        result.responseTimeMs = (clock.now - start).milliseconds
        return result
    }
}

/// Resumes a continuation with whichever answer comes first; later ones are dropped.
private final class FirstAnswer<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    /// True when this was the first answer.
    func give(_ value: Value) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}

extension Duration {
    /// The duration in milliseconds, with fractions.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
