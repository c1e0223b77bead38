import Foundation

/// Latency percentiles of one action, in milliseconds.
struct LatencySummary: Codable, Sendable {
    var count: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var max: Double

    init(_ nanos: [Int64]) {
        let sorted = nanos.sorted()
        func percentile(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
            return Double(sorted[Swift.max(0, index)]) / 1e6
        }
        count = sorted.count
        p50 = percentile(0.5)
        p90 = percentile(0.9)
        p99 = percentile(0.99)
        max = Double(sorted.last ?? 0) / 1e6
    }
}

struct ErrorCounts: Codable, Sendable {
    var callErrors: Int
    var callErrorsByAction: [String: Int]
    var timeouts: Int
    var disconnects: Int
    var connectFailures: Int
    var unexpectedReplies: Int

    var total: Int { callErrors + timeouts + disconnects + connectFailures + unexpectedReplies }
}

/// The server's resident memory over the run, in KiB.
struct MemoryFigures: Codable, Sendable {
    var pid: Int32
    var rssBeforeKiB: Int
    /// Closed loop: when the measured window starts (after ramp and warm-up). Idle: after the ramp.
    var rssLoadedKiB: Int
    var rssEndKiB: Int
    var rssMaxKiB: Int
    /// (loaded − before) / connected chargers.
    var perConnectionKiB: Double
    /// end − loaded: growth during the measured window.
    var growthKiB: Int
    /// [seconds since start, KiB], one sample per 5 s.
    var samples: [[Int]]
}

/// The server's CPU time (user + system) during the measured window: the cost per message that
/// the ratios hide, since the generator shares the same cores.
struct CPUFigures: Codable, Sendable {
    /// CPU seconds per second of the window.
    var cores: Double
    /// CPU microseconds per answered message (0 in an idle run without messages).
    var microsecondsPerMessage: Double
}

struct RESTFigures: Codable, Sendable {
    var requests: Int
    var errors: Int
    var ratePerSecond: Double
    /// Latency from each request's scheduled time, so a stalled server is not hidden by waiting.
    var latency: LatencySummary
}

/// One run's result: printed as a table and as one line of JSON.
struct LoadReport: Codable, Sendable {
    var tool = "ocpp-load"
    var label: String
    var mode: String
    var chargers: Int
    var connected: Int
    var generatorThreads: Int
    var windowSeconds: Double
    var messages: Int
    var messagesPerSecond: Double
    var actions: [String: LatencySummary]
    var errors: ErrorCounts
    var memory: MemoryFigures?
    var cpu: CPUFigures?
    var rest: RESTFigures?

    func table() -> String {
        var lines = [
            "\(label): \(mode) loop, \(connected)/\(chargers) chargers connected, \(String(format: "%.1f", windowSeconds)) s measured",
            String(format: "  %d messages = %.0f messages/s", messages, messagesPerSecond),
            "  action               count     p50 ms    p90 ms    p99 ms    max ms",
        ]
        let order = OCPPAction.allCases.map(\.rawValue) + ["all"]
        for name in order {
            guard let summary = actions[name], summary.count > 0 || name == "all" else { continue }
            lines.append(
                "  " + name.padding(toLength: 18, withPad: " ", startingAt: 0)
                    + String(
                        format: " %8d %9.2f %9.2f %9.2f %9.2f", summary.count, summary.p50, summary.p90, summary.p99, summary.max))
        }
        lines.append(
            "  errors: \(errors.callErrors) CALLERRORs \(errors.callErrorsByAction), \(errors.timeouts) timeouts, "
                + "\(errors.disconnects) disconnects, \(errors.connectFailures) failed connects, "
                + "\(errors.unexpectedReplies) unexpected replies")
        if let memory {
            lines.append(
                String(
                    format: "  server RSS: before %.1f MB, loaded %.1f MB, end %.1f MB, max %.1f MB; %.1f KiB per connection; growth in window %+.1f MB",
                    Double(memory.rssBeforeKiB) / 1024, Double(memory.rssLoadedKiB) / 1024, Double(memory.rssEndKiB) / 1024,
                    Double(memory.rssMaxKiB) / 1024, memory.perConnectionKiB, Double(memory.growthKiB) / 1024))
        }
        if let cpu {
            lines.append(
                String(format: "  server CPU: %.2f cores, %.1f µs per message", cpu.cores, cpu.microsecondsPerMessage))
        }
        if let rest {
            lines.append(
                String(
                    format: "  REST GET /api/v1/stations at %.0f/s: %d requests, %d errors, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms",
                    rest.ratePerSecond, rest.requests, rest.errors, rest.latency.p50, rest.latency.p90, rest.latency.p99,
                    rest.latency.max))
        }
        return lines.joined(separator: "\n")
    }

    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
