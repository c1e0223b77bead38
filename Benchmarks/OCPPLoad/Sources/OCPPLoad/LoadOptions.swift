import Foundation

/// The generator's settings, from plain `--flag value` pairs (see `LoadOptions.usage`).
struct LoadOptions: Sendable {
    enum Mode: String, Sendable { case closed, idle }

    var mode = Mode.closed
    var label = "server"
    var host = "127.0.0.1"
    var port = 8080
    var chargers = 100
    var prefix = "LOAD-"
    var idTag = "BENCH"
    /// Closed loop: the measured seconds after the warm-up. Idle: the hold after the ramp.
    var duration = 30.0
    var warmup = 5.0
    var rampPerSecond = 1000.0
    var heartbeatSeconds = 30.0
    var callTimeoutSeconds = 10.0
    var threads = 1
    var serverPID: Int32?
    var restPerSecond = 0.0
    var restBaseURL: String?
    var restToken = ProcessInfo.processInfo.environment["OCPP_LOAD_REST_TOKEN"]
    var restEmail = ProcessInfo.processInfo.environment["OCPP_LOAD_REST_EMAIL"]
    var restPassword = ProcessInfo.processInfo.environment["OCPP_LOAD_REST_PASSWORD"]
    var jsonFile: String?

    static let usage = """
        usage: ocpp-load [--mode closed|idle] [--label NAME] [--host H] [--port P] [--chargers N]
                         [--prefix ID-PREFIX] [--id-tag TAG] [--duration S] [--warmup S] [--ramp PER-SECOND]
                         [--heartbeat S] [--call-timeout S] [--threads N] [--pid SERVER-PID]
                         [--rest-rate PER-SECOND] [--rest-url http://H:P] [--json-file PATH]
               ocpp-load compare BASELINE.json MEASURED.json
        closed: each charger boots, then repeats Authorize, StartTransaction, 10 x MeterValues
                (energy, power, current), StopTransaction, each CALL waiting for its answer;
                the first --warmup seconds after the ramp are not counted, then --duration seconds are.
        idle:   each charger boots once, then sends a Heartbeat every --heartbeat seconds;
                after the ramp, --duration seconds of hold are measured.
        REST probe (--rest-rate > 0): GET /api/v1/stations with a bearer token from
                OCPP_LOAD_REST_TOKEN, or logs in with OCPP_LOAD_REST_EMAIL and OCPP_LOAD_REST_PASSWORD.
        """

    init(arguments: [String]) throws(UsageError) {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw UsageError("\(flag) needs a value") }
            func number<T: LosslessStringConvertible>(_: T.Type = T.self) throws(UsageError) -> T {
                guard let parsed = T(value) else { throw UsageError("\(flag): '\(value)' is not a number") }
                return parsed
            }
            switch flag {
            case "--mode":
                guard let mode = Mode(rawValue: value) else { throw UsageError("--mode is closed or idle") }
                self.mode = mode
            case "--label": label = value
            case "--host": host = value
            case "--port": port = try number()
            case "--chargers": chargers = try number()
            case "--prefix": prefix = value
            case "--id-tag": idTag = value
            case "--duration": duration = try number()
            case "--warmup": warmup = try number()
            case "--ramp": rampPerSecond = try number()
            case "--heartbeat": heartbeatSeconds = try number()
            case "--call-timeout": callTimeoutSeconds = try number()
            case "--threads": threads = try number()
            case "--pid": serverPID = try number()
            case "--rest-rate": restPerSecond = try number()
            case "--rest-url": restBaseURL = value
            case "--json-file": jsonFile = value
            default: throw UsageError("unknown flag \(flag)")
            }
        }
        guard chargers > 0, duration > 0, warmup >= 0, rampPerSecond > 0, heartbeatSeconds > 0, threads > 0,
            callTimeoutSeconds > 0, restPerSecond >= 0
        else { throw UsageError("counts, durations and rates must be positive") }
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
