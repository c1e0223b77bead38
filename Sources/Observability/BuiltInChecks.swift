import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Probes the database through both paths: a query on a reader and a real write on the writer.
/// The write probe also says how many bytes the database may still grow by (its page limit, when
/// one is set); below `minimumHeadroomBytes` the database counts as full.
public enum DatabaseHealthCheck {
    public static let minimumHeadroomBytes = 256 << 10

    public static func make(
        timeout: Duration = .seconds(2),
        read: @escaping @Sendable () async throws -> Void,
        write: @escaping @Sendable () async throws -> Int
    ) -> HealthCheck {
        // A stalled writer must not collect one queued probe per readiness request.
        let writeProbe = SingleFlight<Int>()
        return HealthCheck(name: "database", timeout: timeout) {
            let clock = ContinuousClock()
            let readTime = try await clock.measure { try await read() }
            var headroomBytes = 0
            let writeTime = try await clock.measure { headroomBytes = try await writeProbe.run(write) }
            let full = headroomBytes < minimumHeadroomBytes
            return HealthCheckResult(
                status: full ? .fail : .pass,
                message: full
                    ? "the database is at its size limit: \(headroomBytes) bytes left"
                    : "read and write probes succeeded",
                metadata: [
                    "readLatencyMs": String(format: "%.2f", readTime.milliseconds),
                    "writeLatencyMs": String(format: "%.2f", writeTime.milliseconds),
                    "headroomBytes": String(headroomBytes),
                ])
        }
    }
}

/// Free space of the filesystem holding the data directory, from `statvfs`.
public enum DiskSpaceHealthCheck {
    public struct Usage: Sendable {
        public var totalBytes: UInt64
        public var availableBytes: UInt64

        public init(totalBytes: UInt64, availableBytes: UInt64) {
            self.totalBytes = totalBytes
            self.availableBytes = availableBytes
        }
        public var usedPercent: Double {
            totalBytes == 0 ? 0 : Double(totalBytes - availableBytes) / Double(totalBytes) * 100
        }
    }

    public static func usage(path: String) throws -> Usage {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else {
            throw SystemCallError(call: "statvfs(\(path))", code: errno)
        }
        let blockSize = UInt64(stats.f_frsize)
        return Usage(
            totalBytes: UInt64(stats.f_blocks) * blockSize, availableBytes: UInt64(stats.f_bavail) * blockSize)
    }

    /// Warns when the disk is more than `warnPercent` used, fails above `failPercent`.
    public static func evaluate(_ usage: Usage, warnPercent: Double, failPercent: Double) -> HealthCheckResult {
        let used = usage.usedPercent
        let status: HealthCheckStatus = used > failPercent ? .fail : used > warnPercent ? .warn : .pass
        return HealthCheckResult(
            status: status,
            message: String(format: "%.1f%% of the data directory's disk is used", used),
            metadata: [
                "totalBytes": String(usage.totalBytes), "availableBytes": String(usage.availableBytes),
                "usedPercent": String(format: "%.1f", used),
                "warnPercent": String(format: "%.0f", warnPercent), "failPercent": String(format: "%.0f", failPercent),
            ])
    }

    public static func make(path: String, warnPercent: Double, failPercent: Double) -> HealthCheck {
        HealthCheck(name: "disk") {
            evaluate(try usage(path: path), warnPercent: warnPercent, failPercent: failPercent)
        }
    }
}

/// The process's resident memory against a limit: warn above 75 %, fail above 90 %.
public enum MemoryHealthCheck {
    public static let warnFraction = 0.75
    public static let failFraction = 0.90

    /// Resident set size of this process, from /proc/self/statm.
    public static func residentBytes() throws -> UInt64 {
        let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else {
            throw SystemCallError(call: "read /proc/self/statm", code: 0)
        }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The machine's memory, or the cgroup's limit when one is set and lower.
    public static func defaultLimitBytes() -> UInt64 {
        let physical = ProcessInfo.processInfo.physicalMemory
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
            let limit = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit < physical
        {
            return limit
        }
        return physical
    }

    public static func evaluate(residentBytes: UInt64, limitBytes: UInt64) -> HealthCheckResult {
        let fraction = limitBytes == 0 ? 1 : Double(residentBytes) / Double(limitBytes)
        let status: HealthCheckStatus = fraction > failFraction ? .fail : fraction > warnFraction ? .warn : .pass
        return HealthCheckResult(
            status: status,
            message: String(format: "resident memory is %.1f%% of the limit", fraction * 100),
            metadata: [
                "residentBytes": String(residentBytes), "limitBytes": String(limitBytes),
                "usedPercent": String(format: "%.1f", fraction * 100),
            ])
    }

    public static func make(limitBytes: UInt64) -> HealthCheck {
        HealthCheck(name: "memory") {
            evaluate(residentBytes: try residentBytes(), limitBytes: limitBytes)
        }
    }
}

public struct SystemCallError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
}
