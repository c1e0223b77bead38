import NIOCore
import Synchronization

/// Collects every answered CALL's latency and every failure, from all event loops. Only exchanges
/// sent and answered inside the measured window count, so ramp and warm-up stay out of the figures.
final class LoadRecorder: Sendable {
    private struct State {
        var window: (start: NIODeadline, end: NIODeadline)?
        var ending = false
        var latencyNanos: [OCPPAction: [Int64]] = [:]
        var callErrors: [OCPPAction: Int] = [:]
        var timeouts = 0
        var disconnects = 0
        var connectFailures = 0
        var connected = 0
        var booted = 0
        var unexpectedReplies = 0
    }

    private let state = Mutex(State())

    func setWindow(start: NIODeadline, end: NIODeadline) { state.withLock { $0.window = (start, end) } }

    /// From here on closed connections are the run's end, not disconnects.
    func markEnding() { state.withLock { $0.ending = true } }

    func answered(_ action: OCPPAction, sentAt: NIODeadline, at now: NIODeadline, callError: Bool) {
        state.withLock { state in
            if action == .bootNotification { state.booted += 1 }
            guard let window = state.window, sentAt >= window.start, now <= window.end else { return }
            if callError {
                state.callErrors[action, default: 0] += 1
            } else {
                state.latencyNanos[action, default: []].append((now - sentAt).nanoseconds)
            }
        }
    }

    func timedOut() { state.withLock { $0.timeouts += 1 } }
    func connected() { state.withLock { $0.connected += 1 } }
    func connectFailed() { state.withLock { $0.connectFailures += 1 } }
    func unexpectedReply() { state.withLock { $0.unexpectedReplies += 1 } }
    func closed() { state.withLock { if !$0.ending { $0.disconnects += 1 } } }

    var counts: (connected: Int, booted: Int) { state.withLock { ($0.connected, $0.booted) } }

    func summary() -> (actions: [String: LatencySummary], errors: ErrorCounts, window: Double) {
        state.withLock { state in
            var actions: [String: LatencySummary] = [:]
            var all: [Int64] = []
            for (action, latencies) in state.latencyNanos {
                actions[action.rawValue] = LatencySummary(latencies)
                all += latencies
            }
            actions["all"] = LatencySummary(all)
            let errors = ErrorCounts(
                callErrors: state.callErrors.values.reduce(0, +),
                callErrorsByAction: Dictionary(uniqueKeysWithValues: state.callErrors.map { ($0.key.rawValue, $0.value) }),
                timeouts: state.timeouts, disconnects: state.disconnects, connectFailures: state.connectFailures,
                unexpectedReplies: state.unexpectedReplies)
            let window = state.window.map { Double(($0.end - $0.start).nanoseconds) / 1e9 } ?? 0
            return (actions, errors, window)
        }
    }
}
