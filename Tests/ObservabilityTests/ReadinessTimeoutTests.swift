import Dispatch
import Foundation
import Observability
import Synchronization
import Testing

@Suite("Readiness under a stalled database")
struct ReadinessTimeoutTests {
    /// Like a write queued behind a stalled writer: it ignores cancellation and answers only when
    /// the stall ends, `stall` later.
    private static func stalledProbe(_ stall: Duration) async -> Int {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(stall.milliseconds))) {
                continuation.resume(returning: Int.max)
            }
        }
    }

    @Test("a check that cannot be cancelled still fails at its timeout: the report does not wait for it")
    func uncancellableCheckTimesOut() async {
        let stuck = HealthCheck(name: "database", timeout: .milliseconds(200)) {
            _ = await Self.stalledProbe(.seconds(120))
            return HealthCheckResult(status: .pass, message: "late")
        }
        let clock = ContinuousClock()
        var report: HealthReport?
        let elapsed = await clock.measure { report = await HealthMonitor(checks: [stuck], version: "t").report() }
        #expect(report?.status == .unhealthy)
        #expect(report?.checks["database"]?.message.contains("did not answer within 200 ms") == true)
        // Generous for a loaded machine: the stall lasts 120 s; answering long before it ends is the point.
        #expect(elapsed < .seconds(60))
    }

    @Test("readiness checks during a writer stall share one write probe instead of queueing one each")
    func stalledWriteProbeIsShared() async {
        let calls = ProbeCounter()
        let check = DatabaseHealthCheck.make(
            timeout: .milliseconds(200), read: {},
            write: {
                calls.count.withLock { $0 += 1 }
                // Far longer than the three reports take even on a loaded machine.
                return await Self.stalledProbe(.seconds(120))
            })
        let monitor = HealthMonitor(checks: [check], version: "t")
        for _ in 0..<3 {
            let report = await monitor.report()
            #expect(report.status == .unhealthy)
        }
        #expect(calls.count.withLock { $0 } == 1)
    }

    @Test(
        "the database check fails when the database has less room than the minimum left",
        arguments: [
            (DatabaseHealthCheck.minimumHeadroomBytes - 1, HealthCheckStatus.fail),
            (DatabaseHealthCheck.minimumHeadroomBytes, .pass),
        ])
    func headroom(bytes: Int, expected: HealthCheckStatus) async {
        let check = DatabaseHealthCheck.make(read: {}, write: { bytes })
        let result = await HealthMonitor.run(check)
        #expect(result.status == expected)
        #expect(result.metadata["headroomBytes"] == String(bytes))
    }
}

private final class ProbeCounter: Sendable {
    let count = Mutex(0)
}
