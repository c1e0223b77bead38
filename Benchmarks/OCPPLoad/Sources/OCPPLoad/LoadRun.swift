import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// One measured run: ramp the chargers up, let them work (closed loop) or idle, sample the server's
/// memory, probe the REST API, then close everything and summarize.
struct LoadRun {
    var options: LoadOptions

    func run() async throws -> LoadReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        do {
            let report = try await run(on: group)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(on group: MultiThreadedEventLoopGroup) async throws -> LoadReport {
        let recorder = LoadRecorder()
        let clock = ContinuousClock()
        let started = clock.now
        let startedDeadline = NIODeadline.now()
        let rampSeconds = Double(options.chargers) / options.rampPerSecond
        let measureStart = startedDeadline + .nanoseconds(Int64((rampSeconds + options.warmup) * 1e9))
        let measureEnd = measureStart + .nanoseconds(Int64(options.duration * 1e9))
        if options.mode == .closed { recorder.setWindow(start: measureStart, end: measureEnd) }
        let script = ChargerScript(
            mode: options.mode, idTag: options.idTag, heartbeat: .nanoseconds(Int64(options.heartbeatSeconds * 1e9)),
            callTimeout: .nanoseconds(Int64(options.callTimeoutSeconds * 1e9)),
            stopSendingAt: options.mode == .closed ? measureEnd : .distantFuture, recorder: recorder)
        let connector = ChargerConnector(group: group, host: options.host, port: options.port, script: script)

        let pid = options.serverPID
        let rssBefore = pid.flatMap(ProcessMemory.residentKiB)
        let sampler = Task {
            var samples: [[Int]] = []
            while !Task.isCancelled {
                if let pid, let kib = ProcessMemory.residentKiB(pid: pid) {
                    samples.append([Int((clock.now - started).components.seconds), kib])
                }
                try? await Task.sleep(for: .seconds(1))
            }
            return samples
        }

        let channels = OpenChannels()
        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<options.chargers {
                let due = started + .nanoseconds(Int64(Double(index) / options.rampPerSecond * 1e9))
                if clock.now < due { try? await clock.sleep(until: due) }
                let identity = "\(options.prefix)\(index)"
                tasks.addTask {
                    do {
                        guard let channel = try await connector.connect(identity: identity, index: index) else {
                            recorder.connectFailed()
                            return
                        }
                        recorder.connected()
                        channels.add(channel)
                        channel.pipeline.fireUserInboundEventTriggered(StartScript())
                    } catch {
                        recorder.connectFailed()
                    }
                }
            }
        }

        let windowEnd: ContinuousClock.Instant
        var rssLoaded: Int?
        var cpuAtStart: Double?
        var restTask: Task<RESTFigures, Never>?
        switch options.mode {
        case .closed:
            let untilMeasuring = measureStart - NIODeadline.now()
            if untilMeasuring.nanoseconds > 0 { try? await Task.sleep(for: .nanoseconds(untilMeasuring.nanoseconds)) }
            rssLoaded = pid.flatMap(ProcessMemory.residentKiB)
            cpuAtStart = pid.flatMap(ProcessCPU.seconds)
            windowEnd = clock.now + .nanoseconds((measureEnd - NIODeadline.now()).nanoseconds)
        case .idle:
            // The ramp ends when every connected charger's BootNotification is answered.
            let bootDeadline = clock.now + .seconds(60)
            while clock.now < bootDeadline {
                let counts = recorder.counts
                if counts.booted >= counts.connected { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
            try? await Task.sleep(for: .seconds(2))
            rssLoaded = pid.flatMap(ProcessMemory.residentKiB)
            cpuAtStart = pid.flatMap(ProcessCPU.seconds)
            let holdStart = NIODeadline.now()
            recorder.setWindow(start: holdStart, end: holdStart + .nanoseconds(Int64(options.duration * 1e9)))
            windowEnd = clock.now + .nanoseconds(Int64(options.duration * 1e9))
        }
        if options.restPerSecond > 0 {
            let base = URL(string: options.restBaseURL ?? "http://\(options.host):\(options.port)")!
            let probe = RESTProbe(
                baseURL: base, token: try await RESTProbe.token(baseURL: base, options: options), perSecond: options.restPerSecond)
            restTask = Task { await probe.run(until: windowEnd) }
        }
        try? await clock.sleep(until: windowEnd)
        let rssEnd = pid.flatMap(ProcessMemory.residentKiB)
        let cpuAtEnd = pid.flatMap(ProcessCPU.seconds)
        let rest = await restTask?.value
        // Answers still in flight at the window's end are not counted; give them a moment anyway
        // so the server sees orderly closes rather than resets.
        try? await Task.sleep(for: .seconds(1))
        recorder.markEnding()
        for channel in channels.all {
            try? await channel.close()
        }
        sampler.cancel()
        let samples = await sampler.value

        let (actions, errors, window) = recorder.summary()
        let connected = recorder.counts.connected
        let messages = actions["all"]?.count ?? 0
        var memory: MemoryFigures?
        if let pid, let rssBefore, let rssLoaded, let rssEnd {
            memory = MemoryFigures(
                pid: pid, rssBeforeKiB: rssBefore, rssLoadedKiB: rssLoaded, rssEndKiB: rssEnd,
                rssMaxKiB: samples.map { $0[1] }.max() ?? rssEnd,
                perConnectionKiB: connected > 0 ? Double(rssLoaded - rssBefore) / Double(connected) : 0,
                growthKiB: rssEnd - rssLoaded, samples: samples.filter { $0[0] % 5 == 0 })
        }
        var cpu: CPUFigures?
        if let cpuAtStart, let cpuAtEnd, window > 0 {
            let used = cpuAtEnd - cpuAtStart
            cpu = CPUFigures(
                cores: used / window, microsecondsPerMessage: messages > 0 ? used * 1e6 / Double(messages) : 0)
        }
        return LoadReport(
            label: options.label, mode: options.mode.rawValue, chargers: options.chargers, connected: connected,
            generatorThreads: options.threads, windowSeconds: window, messages: messages,
            messagesPerSecond: window > 0 ? Double(messages) / window : 0, actions: actions, errors: errors, memory: memory,
            cpu: cpu, rest: rest)
    }
}

/// The chargers' channels, so the run can close those still open at its end.
private final class OpenChannels: Sendable {
    private let channels = Mutex<[Channel]>([])
    func add(_ channel: Channel) { channels.withLock { $0.append(channel) } }
    var all: [Channel] { channels.withLock { $0 } }
}
