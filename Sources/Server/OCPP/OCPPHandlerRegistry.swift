import Foundation
import OCPP

/// One CALL a charge point sent, as its handler sees it.
struct InboundCall: Sendable {
    let connection: ChargePointConnection
    let messageID: String
    let receivedAt: Date
    var stationID: String { connection.chargePointID }

    /// A charger the central system rejected may only boot again (OCPP 1.6 §4.2, 2.0.1 B02).
    func refusal(for action: String) -> OCPPError? {
        guard connection.registration == .rejected, action != "BootNotification" else { return nil }
        return OCPPError(code: .securityError, description: "the charge point is not accepted; send a BootNotification")
    }
}

/// A handler's answer: the response, and work to run once that response is on the wire. The
/// follow-up may call the same charger (its answer is read meanwhile, see `ChargePointChannelHandler`).
struct HandlerReply<Response: OCPPPayload>: Sendable {
    var response: Response
    var afterReply: (@Sendable () async -> Void)?

    init(_ response: Response, afterReply: (@Sendable () async -> Void)? = nil) {
        self.response = response
        self.afterReply = afterReply
    }
}

/// What dispatching one CALL came to.
enum DispatchOutcome: Sendable {
    /// The CALLRESULT payload (already checked against the response schema) and its follow-up.
    case result(JSONValue, afterReply: (@Sendable () async -> Void)?)
    /// A CALLERROR for the charger: its request broke the schema, or the handler refused with one.
    case callError(OCPPError)
    /// Our fault (a handler failed, or built a response its schema refuses): InternalError on the
    /// wire, the cause in our log and metrics.
    case failed(OCPPError, cause: String)
}

/// The inbound handlers of one protocol version, by action name. Each handler gets its request
/// decoded and validated from the action's generated type and returns the typed response, which
/// is validated before it is sent — a malformed frame never leaves us.
struct OCPPHandlerRegistry: Sendable {
    typealias Erased = @Sendable (JSONObject, InboundCall) async -> DispatchOutcome

    /// The WebSocket subprotocol this registry serves (`ocpp1.6`).
    let subprotocol: String
    private let initiators: [String: OCPPInitiator]
    private var handlers: [String: Erased] = [:]

    init(subprotocol: String, actions: [any OCPPAction.Type]) {
        self.subprotocol = subprotocol
        initiators = Dictionary(actions.map { ($0.name, $0.initiator) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every action name of this version.
    var actionNames: Set<String> { Set(initiators.keys) }

    mutating func register<Action: OCPPAction>(
        _ action: Action.Type,
        _ handle: @escaping @Sendable (Action.Request, InboundCall) async throws -> HandlerReply<Action.Response>
    ) {
        handlers[Action.name] = { payload, call in
            let request: Action.Request
            do throws(OCPPValidationError) {
                request = try Action.Request(json: .object(payload))
            } catch {
                return .callError(OCPPError(error))
            }
            if let refusal = call.refusal(for: Action.name) { return .callError(refusal) }
            let reply: HandlerReply<Action.Response>
            do {
                reply = try await handle(request, call)
            } catch let error as OCPPError {
                return .callError(error)
            } catch {
                return .failed(
                    OCPPError(code: .internalError, description: "the central system could not process \(Action.name)"),
                    cause: "\(error)")
            }
            let json = reply.response.json
            do throws(OCPPValidationError) {
                _ = try Action.Response(json: json)
            } catch {
                return .failed(
                    OCPPError(code: .internalError, description: "the central system could not process \(Action.name)"),
                    cause: "our \(Action.name) response breaks its schema: \(error.description)")
            }
            return .result(json, afterReply: reply.afterReply)
        }
    }

    /// A handler with nothing to do after its reply.
    mutating func register<Action: OCPPAction>(
        _ action: Action.Type, _ handle: @escaping @Sendable (Action.Request, InboundCall) async throws -> Action.Response
    ) {
        register(action) { (request: Action.Request, call: InboundCall) async throws -> HandlerReply<Action.Response> in
            HandlerReply(try await handle(request, call))
        }
    }

    /// Decodes, handles and encodes one CALL; an action without a handler is NotSupported (a
    /// central-system action, or one of ours we do not handle) or NotImplemented (unknown).
    func dispatch(action: String, payload: JSONObject, call: InboundCall) async -> DispatchOutcome {
        if let handler = handlers[action] { return await handler(payload, call) }
        switch initiators[action] {
        case .centralSystem:
            return .callError(OCPPError(code: .notSupported, description: "\(action) is sent by a central system, not to it"))
        case .chargePoint, .either:
            return .callError(OCPPError(code: .notSupported, description: "\(action) is not supported by this central system"))
        case nil:
            return .callError(OCPPError(code: .notImplemented, description: "unknown action \(action)"))
        }
    }
}
