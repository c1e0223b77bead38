import Foundation
import Observability
import Testing

@Suite("Health checks")
struct HealthTests {
    private func check(_ name: String, _ status: HealthCheckStatus) -> HealthCheck {
        HealthCheck(name: name) { HealthCheckResult(status: status, message: "\(name) is \(status)") }
    }

    @Test(
        "the overall status is the worst check's",
        arguments: [
            ([HealthCheckStatus.pass, .pass], OverallHealth.healthy),
            ([.pass, .warn], .degraded),
            ([.warn, .fail, .pass], .unhealthy),
            ([], .healthy),
        ])
    func overallRules(statuses: [HealthCheckStatus], expected: OverallHealth) async {
        let monitor = HealthMonitor(
            checks: statuses.enumerated().map { check("c\($0.offset)", $0.element) }, version: "test")
        let report = await monitor.report()
        #expect(report.status == expected)
        #expect(report.checks.count == statuses.count)
        #expect(report.version == "test")
    }

    @Test("a check that throws is a failure carrying its error")
    func throwingCheckFails() async {
        struct ProbeFailed: Error {}
        let monitor = HealthMonitor(
            checks: [check("ok", .pass), HealthCheck(name: "broken") { throw ProbeFailed() }], version: "t")
        let report = await monitor.report()
        #expect(report.status == .unhealthy)
        #expect(report.checks["broken"]?.status == .fail)
        #expect(report.checks["broken"]?.message.contains("ProbeFailed") == true)
        #expect(report.checks["ok"]?.status == .pass)
    }

    @Test("a check slower than its timeout fails, and does not hold up the report")
    func timeoutFails() async {
        let slow = HealthCheck(name: "slow", timeout: .milliseconds(100)) {
            // Far longer than any scheduling delay on a loaded machine, so waiting for it shows.
            try await Task.sleep(for: .seconds(120))
            return HealthCheckResult(status: .pass, message: "late")
        }
        let clock = ContinuousClock()
        var report: HealthReport?
        let elapsed = await clock.measure { report = await HealthMonitor(checks: [slow], version: "t").report() }
        #expect(report?.checks["slow"]?.status == .fail)
        #expect(report?.checks["slow"]?.message.contains("100 ms") == true)
        #expect(elapsed < .seconds(60))
        #expect((report?.checks["slow"]?.responseTimeMs ?? 0) >= 100)
    }

    @Test(
        "disk: warn above the warn threshold, fail above the fail threshold",
        arguments: [(50.0, HealthCheckStatus.pass), (85.0, .warn), (91.0, .warn), (96.0, .fail)])
    func diskThresholds(usedPercent: Double, expected: HealthCheckStatus) {
        let total: UInt64 = 1_000_000
        let usage = DiskSpaceHealthCheck.Usage(totalBytes: total, availableBytes: total - UInt64(usedPercent * 10_000))
        let result = DiskSpaceHealthCheck.evaluate(usage, warnPercent: 80, failPercent: 95)
        #expect(result.status == expected)
        #expect(result.metadata["usedPercent"] == String(format: "%.1f", usedPercent))
    }

    @Test("disk usage is read from the real filesystem")
    func diskReadsFilesystem() throws {
        let usage = try DiskSpaceHealthCheck.usage(path: NSTemporaryDirectory())
        #expect(usage.totalBytes > 0)
        #expect(usage.availableBytes <= usage.totalBytes)
        #expect(throws: SystemCallError.self) { try DiskSpaceHealthCheck.usage(path: "/no/such/directory") }
    }

    @Test(
        "memory: warn above 75 %, fail above 90 % of the limit",
        arguments: [(UInt64(700), HealthCheckStatus.pass), (750, .pass), (751, .warn), (900, .warn), (901, .fail)])
    func memoryThresholds(resident: UInt64, expected: HealthCheckStatus) {
        #expect(MemoryHealthCheck.evaluate(residentBytes: resident, limitBytes: 1000).status == expected)
    }

    @Test("this process's resident memory is measured")
    func residentMemory() throws {
        let resident = try MemoryHealthCheck.residentBytes()
        #expect(resident > 1 << 20)
        #expect(resident < MemoryHealthCheck.defaultLimitBytes())
    }
}
