import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Observability
import Prometheus
import Synchronization

/// The OCPP 1.6J central system: accepts charge point connections, answers their CALLs and
/// sends ours. Transport (`OCPPServerChannel`), framing (`OCPPFrame`), validation
/// (`OCPPSchemas`) and the handlers (`ChargePointHandler`) are separate steps.
struct OCPPService: Sendable {
    struct Settings: Sendable {
        var heartbeatInterval: Int
        var pingInterval: Duration?
        var callTimeout: Duration
        var outboundQueueCapacity: Int
        var maxFrameSize: Int
        var autoRegister: Bool
    }

    let settings: Settings
    let stations: StationRepository
    let monitoring: MonitoringService
    let handler: ChargePointHandler
    let recorder: OCPPRecorder
    let registry: ChargePointRegistry
    let metrics: OCPPMetrics
    let now: @Sendable () -> Date

    // MARK: Upgrade

    /// Who may open `/ocpp/{id}`: a known station (404 otherwise, unless auto-registration is
    /// on), with its Basic-auth password if it has one (401), offering `ocpp1.6` (400).
    func decide(_ head: HTTPRequestHead) async -> OCPPUpgradeDecision {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path.hasPrefix("/ocpp/") else { return .notOCPP }
        let raw = String(path.dropFirst("/ocpp/".count))
        guard !raw.isEmpty, !raw.contains("/"), let identity = raw.removingPercentEncoding, Station.isValidID(identity) else {
            return .refuse(.notFound, [:], "no charge point at this path")
        }
        let station: Station?
        do {
            station = try await stations.station(identity)
        } catch {
            return .refuse(.serviceUnavailable, [:], "the station registry is unavailable")
        }
        var known = station
        if known == nil || known?.status == .decommissioned {
            guard settings.autoRegister, known == nil else {
                return .refuse(.notFound, [:], "unknown charge point \(identity)")
            }
            var created = Station(id: identity, name: identity, now: now())
            created.registration = .pending
            _ = try? await stations.create(created, connectors: [])
            known = created
        }
        if let hash = known?.passwordHash {
            guard let password = Self.basicPassword(head.headers["Authorization"].first, user: identity),
                ChargePointPassword.verify(password, against: hash)
            else {
                return .refuse(.unauthorized, [.wwwAuthenticate: "Basic realm=\"OCPP\", charset=\"UTF-8\""], "Basic authentication required")
            }
        }
        let offered = head.headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let token = offered.first(where: { $0.lowercased() == "ocpp1.6" }) else {
            return .refuse(.badRequest, [:], "the client must offer the ocpp1.6 subprotocol")
        }
        return .accept(chargePointID: identity, subprotocol: token)
    }

    static func basicPassword(_ header: String?, user: String) -> String? {
        guard let header, header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let credentials = String(decoding: data, as: UTF8.self)
        guard let colon = credentials.firstIndex(of: ":"), credentials[..<colon] == user else { return nil }
        return String(credentials[credentials.index(after: colon)...])
    }

    // MARK: Connection

    func run(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, chargePointID: String, logger: Logger) async {
        var connectionLogger = logger
        connectionLogger[metadataKey: "chargePointId"] = .string(chargePointID)
        let logger = connectionLogger
        do {
            try await channel.executeThenClose { inbound, outbound in
                let station = try await stations.station(chargePointID)
                let registration: RegistrationState =
                    switch station?.registration ?? .pending {
                    case .accepted: .accepted
                    case .pending: .pending
                    case .rejected: .rejected
                    }
                let metrics = metrics
                let connection = ChargePointConnection(
                    chargePointID: chargePointID, writer: outbound, registration: registration, connectedAt: now(),
                    outboundCapacity: settings.outboundQueueCapacity, callTimeout: settings.callTimeout,
                    observe: { action, outcome, duration in metrics.outboundCall(action: action, outcome: outcome, duration: duration) })
                if let replaced = registry.register(connection) {
                    logger.info("a new connection replaces the previous one")
                    await replaced.close(code: .policyViolation)
                } else {
                    try await setOnline(chargePointID, true)
                }
                metrics.connected.set(Int64(registry.count))
                logger.info("charge point connected")
                let loop = ChargePointFrameLoop(
                    connection: connection, maxFrameSize: settings.maxFrameSize, pingInterval: settings.pingInterval,
                    readAhead: ChargePointFrameLoop.defaultReadAhead, logger: logger)
                await loop.run(inbound) { text in
                    await recorder.waitForRoom()
                    await process(text, connection: connection, logger: logger)
                }
                await connection.close()
                if registry.unregister(connection) {
                    try await setOnline(chargePointID, false)
                }
                metrics.connected.set(Int64(registry.count))
                logger.info("charge point disconnected")
            }
        } catch {
            logger.info("connection ended", metadata: ["error": .string("\(error)")])
        }
    }

    private func setOnline(_ stationID: String, _ online: Bool) async throws {
        let at = now()
        _ = try await stations.update(stationID, expectedVersion: nil, now: at) { station in
            station.online = online
            station.lastSeenAt = at
        }
        try await monitoring.stationConnectivityChanged(stationID: stationID, online: online, at: at)
    }

    /// One text message: parse, validate, dispatch, answer — and log both directions.
    func process(_ text: String, connection: ChargePointConnection, logger: Logger) async {
        let stationID = connection.chargePointID
        let received = now()
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.parse(text)
        } catch {
            recorder.log(OCPPLogEntry(stationId: stationID, direction: "in", messageType: 0, action: nil, messageId: error.messageID, payload: text, at: received))
            await answer(error: error.error, id: error.messageID ?? "-1", action: nil, connection: connection)
            return
        }
        switch frame {
        case .call(let id, let action, let payload):
            recorder.log(OCPPLogEntry(stationId: stationID, direction: "in", messageType: 2, action: action, messageId: id, payload: text, at: received))
            do {
                guard let schema = OCPPSchemas.chargePointRequests[action] else {
                    throw OCPPSchemas.centralSystemRequests[action] != nil
                        ? OCPPError(code: .notSupported, description: "\(action) is sent by a central system, not to it")
                        : OCPPError(code: .notImplemented, description: "unknown action \(action)")
                }
                try schema.validate(payload)
                if connection.registration == .rejected, action != "BootNotification" {
                    throw OCPPError(code: .securityError, description: "the charge point is not accepted; send a BootNotification")
                }
                let result: [String: Any]
                do {
                    result = try await handler.handle(action, payload, connection: connection)
                } catch let error as OCPPError {
                    throw error
                } catch {
                    logger.error("handler failed", metadata: ["action": .string(action), "error": .string("\(error)")])
                    throw OCPPError(code: .internalError, description: "the central system could not process \(action)")
                }
                let reply = OCPPFrame.encodeResult(id: id, payload: result)
                metrics.message(direction: "in", action: action, result: "result")
                try? await connection.sendText(reply)
                recorder.log(OCPPLogEntry(stationId: stationID, direction: "out", messageType: 3, action: action, messageId: id, payload: reply, at: now()))
            } catch let error as OCPPError {
                await answer(error: error, id: id, action: action, connection: connection)
            } catch {
                await answer(error: OCPPError(code: .internalError, description: "unexpected failure"), id: id, action: action, connection: connection)
            }
        case .callResult(let id, let payload):
            recorder.log(OCPPLogEntry(stationId: stationID, direction: "in", messageType: 3, action: nil, messageId: id, payload: text, at: received))
            let json = (try? JSONSerialization.data(withJSONObject: payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            if !(await connection.outbound.receive(id: id, outcome: .result(json))) {
                logger.notice("dropped a CALLRESULT that answers no call in flight", metadata: ["messageId": .string(id)])
            }
        case .callError(let id, let code, let description, _):
            recorder.log(OCPPLogEntry(stationId: stationID, direction: "in", messageType: 4, action: nil, messageId: id, payload: text, at: received))
            if !(await connection.outbound.receive(id: id, outcome: .error(code: code, description: description))) {
                logger.notice("dropped a CALLERROR that answers no call in flight", metadata: ["messageId": .string(id)])
            }
        case .unknownType(let type):
            recorder.log(OCPPLogEntry(stationId: stationID, direction: "in", messageType: type, action: nil, messageId: nil, payload: text, at: received))
            logger.notice("ignored a message of unknown type", metadata: ["messageTypeId": .stringConvertible(type)])
        }
    }

    private func answer(error: OCPPError, id: String, action: String?, connection: ChargePointConnection) async {
        let reply = OCPPFrame.encodeError(id: id, error)
        metrics.message(direction: "in", action: action, result: "error")
        metrics.callError(code: error.code.rawValue)
        try? await connection.sendText(reply)
        recorder.log(
            OCPPLogEntry(stationId: connection.chargePointID, direction: "out", messageType: 4, action: action, messageId: id, payload: reply, at: now()))
    }

    // MARK: Calls to a charge point

    /// Sends a CALL and waits for the charger's answer.
    func call(_ stationID: String, action: String, payload: String) async throws -> CallOutcome {
        guard let connection = registry.connection(stationID) else { throw OutboundCallError.notConnected }
        metrics.message(direction: "out", action: action, result: "sent")
        metrics.queueDepth.increment()
        defer { metrics.queueDepth.decrement() }
        let outcome = try await connection.outbound.call(action, payload: payload)
        recorder.log(
            OCPPLogEntry(stationId: stationID, direction: "out", messageType: 2, action: action, messageId: nil, payload: payload, at: now()))
        return outcome
    }
}

/// OCPP series on `/metrics`. Labelled series are made once and kept: the registry's own lookup
/// takes a lock and builds the label set on every call.
struct OCPPMetrics: Sendable {
    let connected: Gauge
    private let counters = SeriesCache<Counter>()
    private let histograms = SeriesCache<DurationHistogram>()
    /// Our CALLs in flight or waiting, over all chargers.
    let queueDepth: Gauge
    private let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        queueDepth = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ocpp", metricName: "outbound_queue_depth", unitName: "",
                helpText: "CALLs to charge points in flight or waiting"))
        connected = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ocpp", metricName: "connected_charge_points", unitName: "", helpText: "Charge points connected now"))
    }

    /// Label values come only from these sets: a label taken from the wire as it is would let a
    /// charger make a new series per message (20,000 unknown actions, 20,000 series).
    static let knownActions = Set(OCPPSchemas.chargePointRequests.keys).union(OCPPSchemas.centralSystemRequests.keys)
    static let knownDirections: Set<String> = ["in", "out"]
    static let knownResults: Set<String> = ["result", "error", "sent"]
    static let knownOutcomes: Set<String> = ["result", "error", "timeout"]
    static let knownErrorCodes = Set(OCPPErrorCode.allCases.map(\.rawValue))

    /// `value` when it is one of `known`, otherwise "unknown".
    static func label(_ value: String?, from known: Set<String>) -> String {
        guard let value, known.contains(value) else { return "unknown" }
        return value
    }

    func message(direction: String, action: String?, result: String) {
        let direction = Self.label(direction, from: Self.knownDirections)
        let action = Self.label(action, from: Self.knownActions)
        let result = Self.label(result, from: Self.knownResults)
        counters.series("m\(direction)|\(action)|\(result)") {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "ocpp", metricName: "messages", unitName: "total",
                    helpText: "OCPP messages by direction, action and result"),
                labels: [("direction", direction), ("action", action), ("result", result)])
        }.increment()
    }

    func callError(code: String) {
        let code = Self.label(code, from: Self.knownErrorCodes)
        counters.series("e\(code)") {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "ocpp", metricName: "callerrors", unitName: "total", helpText: "CALLERRORs we sent, by code"),
                labels: [("code", code)])
        }.increment()
    }

    func outboundCall(action: String, outcome: String, duration: Duration) {
        let action = Self.label(action, from: Self.knownActions)
        let outcome = Self.label(outcome, from: Self.knownOutcomes)
        histograms.series("\(action)|\(outcome)") {
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "ocpp", metricName: "outbound_call_duration", unitName: "seconds",
                    helpText: "Time from our CALL to the charger's answer, by action and outcome (result, error, timeout)"),
                labels: [("action", action), ("outcome", outcome)], buckets: RequestMetrics.latencyBuckets)
        }.record(duration)
    }
}

/// Metric series by key, made on first use.
final class SeriesCache<Series: Sendable>: Sendable {
    private let series = Mutex<[String: Series]>([:])

    func series(_ key: String, make: () -> Series) -> Series {
        series.withLock { cache in
            if let existing = cache[key] { return existing }
            let made = make()
            cache[key] = made
            return made
        }
    }
}
