import Foundation
import NIOCore
import NIOWebSocket
import OCPP
import Synchronization

/// Where a charger stands after its last BootNotification (or, before one, as the station is set).
enum RegistrationState: String, Sendable {
    case accepted = "Accepted"
    case pending = "Pending"
    case rejected = "Rejected"
}

/// One live WebSocket of one charge point: its outbound calls, the CALLs it sent that wait to be
/// handled, and its registration state. Frames are read by `ChargePointChannelHandler` on the
/// channel's event loop; CALLs are handled in order, on that loop, by a consumer task that exists
/// only while there is something to handle (an idle charger costs no task).
final class ChargePointConnection: Sendable {
    let chargePointID: String
    let connectionID = UUID()
    let connectedAt: Date
    /// The negotiated subprotocol (`ocpp1.6`).
    let subprotocol: String
    let outbound: OutboundCalls
    let inbound: InboundCalls
    /// See `OCPPAcceptance.authenticatedOverTLS`.
    let authenticatedOverTLS: Bool
    let admission: Admission

    /// How the charger connected and proved itself.
    struct Admission: Sendable, Equatable {
        var security: ConnectionSecurity
        var passwordVerified: Bool

        static let plain = Admission(security: .plain, passwordVerified: false)
    }
    private let channel: any Channel
    private let state: Mutex<State>

    private struct State {
        var registration: RegistrationState
        var closed = false
    }

    init(
        chargePointID: String, subprotocol: String, channel: any Channel, registration: RegistrationState, connectedAt: Date,
        outboundCapacity: Int, callTimeout: Duration, authenticatedOverTLS: Bool = false, admission: Admission = .plain,
        inboundCapacity: Int = InboundCalls.defaultCapacity, inboundThrottle: RateLimitRule? = nil,
        throttled: @escaping @Sendable () -> Void = {},
        observe: @escaping @Sendable (String, String, Duration) -> Void = { _, _, _ in },
        finished: @escaping @Sendable (OutboundExchange) -> Void = { _ in },
        tracing: OCPPTracing? = nil
    ) {
        self.chargePointID = chargePointID
        self.subprotocol = subprotocol
        self.channel = channel
        self.connectedAt = connectedAt
        self.authenticatedOverTLS = authenticatedOverTLS
        self.admission = admission
        self.state = Mutex(State(registration: registration))
        self.inbound = InboundCalls(
            capacity: inboundCapacity, eventLoop: channel.eventLoop, throttle: inboundThrottle, throttled: throttled)
        self.outbound = OutboundCalls(
            capacity: outboundCapacity, timeout: callTimeout,
            send: { text in channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)), promise: nil) },
            observe: observe, finished: finished, tracing: tracing, stationID: chargePointID)
    }

    var registration: RegistrationState {
        get { state.withLock { $0.registration } }
        set { state.withLock { $0.registration = newValue } }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Writes a text frame; does not wait for the socket.
    func sendText(_ text: String) {
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)), promise: nil)
    }

    /// Asks the channel for more frames: the handler stopped reading while `inbound` was full.
    func resumeReading() {
        channel.read()
    }

    /// Sends a close frame (once), then closes the socket; pending calls fail as not connected.
    func close(code: WebSocketErrorCode = .normalClosure) {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        let channel = channel
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
            channel.close(promise: nil)
        }
        outbound.close()
    }

    /// The socket is gone (closed by either side).
    func closed() {
        state.withLock { $0.closed = true }
        outbound.close()
        inbound.finish()
    }

    /// Sends `request` as a CALL of `Action` and returns the charger's typed answer. Our request is
    /// checked against its schema first (a failure is our bug and is never sent); the answer is
    /// checked against the response schema.
    func call<Action: OCPPAction>(_ action: Action.Type, _ request: Action.Request) async throws -> Action.Response {
        let payload = request.json
        do throws(OCPPValidationError) {
            _ = try Action.Request(json: payload)
        } catch {
            throw OutboundCallError.invalidRequest(action: Action.name, error)
        }
        switch try await outbound.call(Action.name, payload: payload) {
        case .result(let object):
            do throws(OCPPValidationError) {
                return try Action.Response(json: .object(object))
            } catch {
                throw OutboundCallError.invalidResponse(action: Action.name, error)
            }
        case .error(let code, let description):
            throw OutboundCallError.callError(code: code, description: description)
        }
    }
}

/// The live connections by charge point id. A new connection for an id replaces the old one,
/// which is closed; commands always go to the newest.
final class ChargePointRegistry: Sendable {
    private let connections = Mutex<[String: ChargePointConnection]>([:])

    /// Registers `connection`; returns the one it replaced.
    func register(_ connection: ChargePointConnection) -> ChargePointConnection? {
        connections.withLock { connections in
            let old = connections[connection.chargePointID]
            connections[connection.chargePointID] = connection
            return old
        }
    }

    /// Removes `connection` if it is still the current one for its id; true when it was.
    func unregister(_ connection: ChargePointConnection) -> Bool {
        connections.withLock { connections in
            guard connections[connection.chargePointID]?.connectionID == connection.connectionID else { return false }
            connections.removeValue(forKey: connection.chargePointID)
            return true
        }
    }

    func connection(_ chargePointID: String) -> ChargePointConnection? {
        connections.withLock { $0[chargePointID] }
    }

    var count: Int { connections.withLock { $0.count } }

    var all: [ChargePointConnection] { connections.withLock { Array($0.values) } }
}
