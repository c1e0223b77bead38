import Foundation

/// The same scenario against the echo (the generator's ceiling) and a server, side by side, with the
/// ratios issue 9 sets its targets in.
struct LoadComparison: Codable {
    var tool = "ocpp-load-compare"
    var mode: String
    var chargers: Int
    var baseline: String
    var measured: String
    var messagesPerSecondRatio: Double
    var p99Ratio: Double
    var baselineMessagesPerSecond: Double
    var measuredMessagesPerSecond: Double
    var baselineP99: Double
    var measuredP99: Double
    var measuredErrors: Int
    var measuredPerConnectionKiB: Double?
    var baselinePerConnectionKiB: Double?
    var measuredGrowthKiB: Int?
    var measuredRESTP99: Double?
    var baselineCPUMicrosecondsPerMessage: Double?
    var measuredCPUMicrosecondsPerMessage: Double?

    static func load(_ path: String) throws -> LoadReport {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{\"") }) else {
            throw UsageError("\(path) has no ocpp-load JSON line")
        }
        return try JSONDecoder().decode(LoadReport.self, from: Data(line.utf8))
    }

    init(baseline: LoadReport, measured: LoadReport) {
        mode = measured.mode
        chargers = measured.chargers
        self.baseline = baseline.label
        self.measured = measured.label
        baselineMessagesPerSecond = baseline.messagesPerSecond
        measuredMessagesPerSecond = measured.messagesPerSecond
        baselineP99 = baseline.actions["all"]?.p99 ?? 0
        measuredP99 = measured.actions["all"]?.p99 ?? 0
        messagesPerSecondRatio = baselineMessagesPerSecond > 0 ? measuredMessagesPerSecond / baselineMessagesPerSecond : 0
        p99Ratio = baselineP99 > 0 ? measuredP99 / baselineP99 : 0
        measuredErrors = measured.errors.total
        measuredPerConnectionKiB = measured.memory?.perConnectionKiB
        baselinePerConnectionKiB = baseline.memory?.perConnectionKiB
        measuredGrowthKiB = measured.memory?.growthKiB
        measuredRESTP99 = measured.rest?.latency.p99
        baselineCPUMicrosecondsPerMessage = baseline.cpu?.microsecondsPerMessage
        measuredCPUMicrosecondsPerMessage = measured.cpu?.microsecondsPerMessage
    }

    static func table(baseline: LoadReport, measured: LoadReport) -> String {
        func row(_ name: String, _ left: String, _ right: String) -> String {
            name.padding(toLength: 30, withPad: " ", startingAt: 0) + left.leftPadded(14) + right.leftPadded(14)
        }
        func ms(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
        var lines = [row("", baseline.label, measured.label)]
        lines.append(row("chargers connected", "\(baseline.connected)", "\(measured.connected)"))
        lines.append(
            row("messages/s", String(format: "%.0f", baseline.messagesPerSecond), String(format: "%.0f", measured.messagesPerSecond)))
        for name in OCPPAction.allCases.map(\.rawValue) + ["all"] {
            guard let left = baseline.actions[name], let right = measured.actions[name], left.count + right.count > 0 else { continue }
            lines.append(row("\(name) p50/p99 ms", "\(ms(left.p50))/\(ms(left.p99))", "\(ms(right.p50))/\(ms(right.p99))"))
        }
        lines.append(row("all max ms", ms(baseline.actions["all"]?.max), ms(measured.actions["all"]?.max)))
        lines.append(row("errors", "\(baseline.errors.total)", "\(measured.errors.total)"))
        lines.append(
            row(
                "RSS KiB per connection", baseline.memory.map { String(format: "%.1f", $0.perConnectionKiB) } ?? "-",
                measured.memory.map { String(format: "%.1f", $0.perConnectionKiB) } ?? "-"))
        lines.append(
            row(
                "RSS before/loaded/end MB", baseline.memory.map(Self.megabytes) ?? "-", measured.memory.map(Self.megabytes) ?? "-"))
        lines.append(
            row(
                "CPU cores / µs per message", baseline.cpu.map(Self.cpuCell) ?? "-", measured.cpu.map(Self.cpuCell) ?? "-"))
        lines.append(row("REST p50/p99 ms", "-", measured.rest.map { "\(ms($0.latency.p50))/\(ms($0.latency.p99))" } ?? "-"))
        let comparison = LoadComparison(baseline: baseline, measured: measured)
        lines.append(
            String(
                format: "ratio %@/%@ messages/s = %.2f (target >= 0.60); p99 %@/%@ = %.2f (target <= 2)",
                measured.label, baseline.label, comparison.messagesPerSecondRatio, measured.label, baseline.label,
                comparison.p99Ratio))
        return lines.joined(separator: "\n")
    }

    private static func cpuCell(_ cpu: CPUFigures) -> String {
        String(format: "%.2f / %.1f", cpu.cores, cpu.microsecondsPerMessage)
    }

    private static func megabytes(_ memory: MemoryFigures) -> String {
        String(
            format: "%.0f/%.0f/%.0f", Double(memory.rssBeforeKiB) / 1024, Double(memory.rssLoadedKiB) / 1024,
            Double(memory.rssEndKiB) / 1024)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
