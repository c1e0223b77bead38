import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import OCPP
import Observability
import Prometheus
import Synchronization
import Tracing

/// The OCPP central system: accepts charge point connections, answers their CALLs and sends
/// ours. Transport (`OCPPServerChannel`, `ChargePointChannelHandler`), framing and validation
/// (the `OCPP` module), dispatch (`OCPPHandlerRegistry`, one per protocol version) and the domain
/// (`ChargerActivity`) are separate steps.
struct OCPPService: Sendable {
    struct Settings: Sendable {
        var heartbeatInterval: Int
        var pingInterval: Duration?
        var callTimeout: Duration
        var outboundQueueCapacity: Int
        var maxFrameSize: Int
        var autoRegister: Bool
        /// CALLs per second a charger may send before its answers are delayed; nil: no throttle.
        var maxMessagesPerSecond: Int? = nil
    }

    let settings: Settings
    let stations: StationRepository
    let monitoring: MonitoringService
    /// The handler registries by subprotocol (lowercased), in our order of preference.
    let protocols: [OCPPHandlerRegistry]
    let commands: ChargePointCommands
    let recorder: OCPPRecorder
    let registry: ChargePointRegistry
    let metrics: OCPPMetrics
    let now: @Sendable () -> Date
    /// Nil unless tracing is on: each message then costs one nil check.
    var tracing: OCPPTracing? = nil

    // MARK: Upgrade

    /// Who may open `/ocpp/{id}`: a known station (404 otherwise, unless auto-registration is
    /// on), with its Basic-auth password if it has one (401), offering a subprotocol we speak (400).
    func decide(_ head: HTTPRequestHead, security: ConnectionSecurity = .plain) async -> OCPPUpgradeDecision {
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
        if let refusal = Self.securityRefusal(profile: known?.securityProfile ?? 0, identity: identity, security: security) {
            return refusal
        }
        // Security profile 3 authenticates with the client certificate; the others with Basic auth —
        // a certificate never stands in for the password below profile 3.
        let profile = known?.securityProfile ?? 0
        let certified = profile >= 3 && security.clientCommonName == identity
        var passwordVerified = false
        if let hash = known?.passwordHash, !certified {
            let match = Self.basicPassword(head.headers["Authorization"].first, user: identity).map {
                Self.matchPassword($0, current: hash, previous: known?.previousPasswordHash)
            }
            switch match ?? .neither {
            case .current:
                // The charger uses its new key: the one it had before a RebootRequired rotation is done.
                if known?.previousPasswordHash != nil { await retirePreviousPassword(of: identity) }
            case .previous:
                break
            case .neither:
                return .refuse(.unauthorized, [.wwwAuthenticate: "Basic realm=\"OCPP\", charset=\"UTF-8\""], "Basic authentication required")
            }
            passwordVerified = true
        } else if known?.passwordHash == nil, (1...2).contains(profile) {
            return .refuse(.unauthorized, [:], "security profile \(profile) needs a password; none is set")
        }
        let offered = head.headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let token = offered.first(where: { token in protocols.contains { $0.subprotocol == token.lowercased() } }) else {
            let names = protocols.map(\.subprotocol).joined(separator: ", ")
            return .refuse(.badRequest, [:], "the client must offer the \(names) subprotocol")
        }
        let registration: RegistrationState =
            switch known?.registration ?? .pending {
            case .accepted: .accepted
            case .pending: .pending
            case .rejected: .rejected
            }
        return .accept(
            OCPPAcceptance(
                chargePointID: identity, subprotocol: token, registration: registration,
                authenticatedOverTLS: security.tls && (passwordVerified || certified || security.clientCommonName == identity),
                security: security, passwordVerified: passwordVerified))
    }

    enum PasswordMatch { case current, previous, neither }

    static func matchPassword(_ password: String, current: String, previous: String?) -> PasswordMatch {
        if ChargePointPassword.verify(password, against: current) { return .current }
        if let previous, ChargePointPassword.verify(password, against: previous) { return .previous }
        return .neither
    }

    /// Best effort: if it fails, the old key stays valid until the next connection with the new one.
    private func retirePreviousPassword(of stationID: String) async {
        _ = try? await stations.update(stationID, expectedVersion: nil, now: now()) { $0.previousPasswordHash = nil }
    }

    /// Whether the connection is below the station's security profile: 2 needs TLS, 3 needs TLS and
    /// a client certificate of this charge point. A certificate of another charge point is always refused.
    static func securityRefusal(profile: Int, identity: String, security: ConnectionSecurity) -> OCPPUpgradeDecision? {
        if let name = security.clientCommonName, name != identity {
            return .refuse(.forbidden, [:], "the client certificate is for \(name), not \(identity)")
        }
        if profile >= 2 && !security.tls {
            return .refuse(.forbidden, [:], "charge point \(identity) must connect over TLS (security profile \(profile))")
        }
        if profile >= 3 && security.clientCommonName != identity {
            return .refuse(.forbidden, [:], "charge point \(identity) must present its client certificate (security profile 3)")
        }
        return nil
    }

    /// Why `station`'s live connection no longer meets its security profile (raised after it
    /// connected), or nil: it would be admitted as it is now. The same rules as at the upgrade.
    static func securityProfileRefusal(profile: Int, identity: String, admission: ChargePointConnection.Admission) -> String? {
        if case .refuse(_, _, let reason) = securityRefusal(profile: profile, identity: identity, security: admission.security) {
            return reason
        }
        let certified = profile >= 3 && admission.security.clientCommonName == identity
        if (1...2).contains(profile) && !admission.passwordVerified && !certified {
            return "charge point \(identity) did not authenticate with its password (security profile \(profile))"
        }
        return nil
    }

    /// Closes `stationID`'s live connection when it no longer meets `profile`, so the charger must
    /// connect again under the new rules; true when it did.
    @discardableResult
    func enforceSecurityProfile(stationID: String, profile: Int, logger: Logger) -> Bool {
        guard let connection = registry.connection(stationID),
            let reason = Self.securityProfileRefusal(profile: profile, identity: stationID, admission: connection.admission)
        else { return false }
        logger.notice(
            "closing a connection below the station's new security profile",
            metadata: ["chargePointId": .string(stationID), "reason": .string(reason)])
        connection.close(code: .policyViolation)
        return true
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

    /// Puts the charger's frame handler on the upgraded channel, on its event loop.
    func attach(_ channel: any Channel, _ acceptance: OCPPAcceptance, logger: Logger) throws -> ChargePointConnection {
        var connectionLogger = logger
        connectionLogger[metadataKey: "chargePointId"] = .string(acceptance.chargePointID)
        let logger = connectionLogger
        let connection = makeConnection(
            chargePointID: acceptance.chargePointID, subprotocol: acceptance.subprotocol.lowercased(), channel: channel,
            registration: acceptance.registration, authenticatedOverTLS: acceptance.authenticatedOverTLS,
            admission: ChargePointConnection.Admission(security: acceptance.security, passwordVerified: acceptance.passwordVerified))
        let handler = ChargePointChannelHandler(
            connection: connection, maxMessageSize: settings.maxFrameSize, pingInterval: settings.pingInterval.map(TimeAmount.init),
            logger: logger
        ) { buffer, connection in
            receive(buffer, connection: connection, logger: logger)
        }
        try channel.pipeline.syncOperations.addHandler(handler)
        return connection
    }

    func makeConnection(
        chargePointID: String, subprotocol: String, channel: any Channel, registration: RegistrationState,
        authenticatedOverTLS: Bool = false, admission: ChargePointConnection.Admission = .plain
    ) -> ChargePointConnection {
        let metrics = metrics
        let recorder = recorder
        return ChargePointConnection(
            chargePointID: chargePointID, subprotocol: subprotocol, channel: channel, registration: registration,
            connectedAt: now(), outboundCapacity: settings.outboundQueueCapacity, callTimeout: settings.callTimeout,
            authenticatedOverTLS: authenticatedOverTLS, admission: admission,
            inboundThrottle: settings.maxMessagesPerSecond.map { RateLimitRule(quota: $0, windowSeconds: 1) },
            throttled: { metrics.throttled() },
            observe: { action, outcome, duration in metrics.outboundCall(action: action, outcome: outcome, duration: duration) },
            finished: { exchange in
                recorder.log(
                    OCPPLogEntry(
                        stationId: chargePointID, direction: "out", messageType: 2, action: exchange.action,
                        messageId: exchange.messageID, payload: exchange.frame, at: exchange.sentAt,
                        answer: exchange.answer.map { OCPPLogEntry.Answer(messageType: $0.messageType, payload: $0.frame, at: $0.at) }))
            }, tracing: tracing)
    }

    /// Registers a new connection (closing the one it replaces) and sees to its end.
    func connected(_ connection: ChargePointConnection, channel: any Channel, logger: Logger) async {
        var connectionLogger = logger
        connectionLogger[metadataKey: "chargePointId"] = .string(connection.chargePointID)
        let logger = connectionLogger
        if let replaced = registry.register(connection) {
            logger.info("a new connection replaces the previous one")
            replaced.close(code: .policyViolation)
        } else {
            await setOnline(connection.chargePointID, true, logger: logger)
        }
        metrics.connected.set(Int64(registry.count))
        logger.info("charge point connected")
        channel.closeFuture.whenComplete { _ in
            Task { await disconnected(connection, logger: logger) }
        }
    }

    private func disconnected(_ connection: ChargePointConnection, logger: Logger) async {
        connection.closed()
        if registry.unregister(connection) {
            await setOnline(connection.chargePointID, false, logger: logger)
        }
        metrics.connected.set(Int64(registry.count))
        logger.info("charge point disconnected")
    }

    /// Marks the station online or offline; a failure is logged, as the connection goes on either way.
    private func setOnline(_ stationID: String, _ online: Bool, logger: Logger) async {
        let at = now()
        do {
            _ = try await stations.update(stationID, expectedVersion: nil, now: at) { station in
                station.online = online
                station.lastSeenAt = at
            }
            try await monitoring.stationConnectivityChanged(stationID: stationID, online: online, at: at)
        } catch {
            logger.error(
                "could not mark the station \(online ? "online" : "offline")", metadata: ["error": .string("\(error)")])
        }
    }

    // MARK: Messages

    /// One text message, on the channel's event loop: an answer to our CALL goes to the waiting
    /// call at once (so a handler waiting for it is never stuck behind its own CALL); a CALL, or a
    /// frame we cannot read, waits its turn with the connection's consumer.
    func receive(_ buffer: ByteBuffer, connection: ChargePointConnection, logger: Logger) {
        let received = now()
        let text = String(buffer: buffer)
        let result = buffer.withUnsafeReadableBytes { bytes -> Result<OCPPFrame, OCPPFrame.DecodingError> in
            do throws(OCPPFrame.DecodingError) {
                return .success(try OCPPFrame.decode(bytes))
            } catch {
                return .failure(error)
            }
        }
        let decoded: OCPPFrame
        switch result {
        case .success(let frame):
            decoded = frame
        case .failure(let error):
            enqueue(.malformed(error, frame: text, receivedAt: received), connection: connection, logger: logger)
            return
        }
        switch decoded {
        case .call(let id, let action, let payload):
            enqueue(.call(id: id, action: action, payload: payload, frame: text, receivedAt: received), connection: connection, logger: logger)
        case .callResult(let id, let payload):
            if !connection.outbound.receive(id: id, answer: .result(payload), frame: text, messageType: 3) {
                stray(text, id: id, type: 3, at: received, connection: connection, logger: logger)
            }
        case .callError(let id, let code, let description, _):
            if !connection.outbound.receive(id: id, answer: .error(code: code, description: description), frame: text, messageType: 4) {
                stray(text, id: id, type: 4, at: received, connection: connection, logger: logger)
            }
        case .unknownType(let type):
            recorder.log(
                OCPPLogEntry(stationId: connection.chargePointID, direction: "in", messageType: type, action: nil, messageId: nil, payload: text, at: received))
            logger.notice("ignored a message of unknown type", metadata: ["messageTypeId": .stringConvertible(type)])
        }
    }

    private func enqueue(_ message: InboundMessage, connection: ChargePointConnection, logger: Logger) {
        _ = connection.inbound.put(
            message, handle: { message in await handle(message, connection: connection, logger: logger) },
            roomAgain: { connection.resumeReading() })
    }

    private func stray(_ text: String, id: String, type: Int, at: Date, connection: ChargePointConnection, logger: Logger) {
        // A late answer to one of our calls keeps its action; anything else answers nothing we know.
        let action = connection.outbound.lateAction(id: id)
        recorder.log(
            OCPPLogEntry(stationId: connection.chargePointID, direction: "in", messageType: type, action: action, messageId: id, payload: text, at: at))
        logger.notice("dropped an answer to no call in flight", metadata: ["messageId": .string(id)])
    }

    /// Handles one CALL (or answers an unreadable frame) and logs the exchange as one row. Work
    /// a handler left for after its reply runs on its own task, so it may call the charger while
    /// the charger's next CALLs are handled.
    func handle(_ message: InboundMessage, connection: ChargePointConnection, logger: Logger) async {
        await recorder.waitForRoom()
        switch message {
        case .malformed(let error, let frame, let receivedAt):
            answer(
                OCPPError(code: error.code, description: error.description), id: error.messageID ?? "-1", action: nil,
                call: (frame, 0, receivedAt), connection: connection)
        case .call(let id, let action, let payload, let frame, let receivedAt):
            let call = InboundCall(connection: connection, messageID: id, receivedAt: receivedAt)
            let span = tracing?.inbound(stationID: connection.chargePointID, action: action, messageID: id, payload: payload)
            let outcome: DispatchOutcome
            if let span {
                // The handler's database work and events become children of the message's span.
                outcome = await ServiceContext.$current.withValue(span.context) {
                    await dispatch(action: action, payload: payload, call: call, connection: connection)
                }
            } else {
                outcome = await dispatch(action: action, payload: payload, call: call, connection: connection)
            }
            defer { if let span { OCPPTracing.finish(span, OCPPSpanResult(outcome)) } }
            switch outcome {
            case .result(let json, let afterReply):
                let reply = JSONWriter.string(.array([.int(3), .string(id), json]))
                connection.sendText(reply)
                metrics.message(direction: "in", action: action, result: "result")
                recorder.log(
                    OCPPLogEntry(
                        stationId: connection.chargePointID, direction: "in", messageType: 2, action: action, messageId: id,
                        payload: frame, at: receivedAt, answer: OCPPLogEntry.Answer(messageType: 3, payload: reply, at: now())))
                if let afterReply { Task { await afterReply() } }
            case .callError(let error):
                answer(error, id: id, action: action, call: (frame, 2, receivedAt), connection: connection)
            case .failed(let error, let cause):
                logger.error("handler failed", metadata: ["action": .string(action), "error": .string(cause)])
                metrics.invalidFrame("handler_failure")
                answer(error, id: id, action: action, call: (frame, 2, receivedAt), connection: connection)
            }
        }
    }

    private func dispatch(
        action: String, payload: JSONObject, call: InboundCall, connection: ChargePointConnection
    ) async -> DispatchOutcome {
        guard let handlers = protocols.first(where: { $0.subprotocol == connection.subprotocol }) else {
            return .failed(OCPPError(code: .internalError, description: "no handlers"), cause: "no handlers for \(connection.subprotocol)")
        }
        return await handlers.dispatch(action: action, payload: payload, call: call)
    }

    private func answer(
        _ error: OCPPError, id: String, action: String?, call: (frame: String, type: Int, at: Date), connection: ChargePointConnection
    ) {
        let reply = OCPPFrame.callError(id: id, code: error.code.rawValue, description: error.description, details: JSONObject()).text
        connection.sendText(reply)
        metrics.message(direction: "in", action: action, result: "error")
        metrics.callError(code: error.code.rawValue)
        recorder.log(
            OCPPLogEntry(
                stationId: connection.chargePointID, direction: "in", messageType: call.type, action: action, messageId: id,
                payload: call.frame, at: call.at, answer: OCPPLogEntry.Answer(messageType: 4, payload: reply, at: now())))
    }

    /// Decodes and handles one text message to the end (its answer written) — the path of
    /// `receive` and the connection's consumer in one call, for tests that drive a connection directly.
    func process(_ text: String, connection: ChargePointConnection, logger: Logger) async {
        let received = now()
        let decoded: OCPPFrame
        do {
            decoded = try OCPPFrame.decode(text)
        } catch {
            await handle(.malformed(error, frame: text, receivedAt: received), connection: connection, logger: logger)
            return
        }
        if case .call(let id, let action, let payload) = decoded {
            await handle(.call(id: id, action: action, payload: payload, frame: text, receivedAt: received), connection: connection, logger: logger)
        } else {
            receive(ByteBuffer(string: text), connection: connection, logger: logger)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
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
    private let throttledCalls: Counter
    private let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        throttledCalls = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "ocpp", metricName: "throttled_calls", unitName: "total",
                helpText: "Chargers' CALLs answered later because their connection sent more than ocppMaxMessagesPerSecond"))
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
    static let knownActions = Set(OCPP16.allActions.map { $0.name }).union(OCPP201.allActions.map { $0.name })
    static let knownDirections: Set<String> = ["in", "out"]
    static let knownResults: Set<String> = ["result", "error", "sent"]
    static let knownOutcomes: Set<String> = ["result", "error", "timeout"]
    static let knownErrorCodes = Set(OCPPErrorCode.allCases.map(\.rawValue))
    static let knownInvalidFrames: Set<String> = ["charger_response", "our_request", "handler_failure"]

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

    /// A frame refused before it reached the wire or a caller: a charger's CALLRESULT that breaks
    /// its schema, a request of ours that does, or a handler that failed or answered against its schema.
    func invalidFrame(_ kind: String) {
        let kind = Self.label(kind, from: Self.knownInvalidFrames)
        counters.series("i\(kind)") {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "ocpp", metricName: "refused_frames", unitName: "total",
                    helpText: "Frames refused by validation or failed handlers, by kind"),
                labels: [("kind", kind)])
        }.increment()
    }

    /// A charger's CALL held back by its connection's throttle.
    func throttled() { throttledCalls.increment() }

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
