import Foundation
import NIOCore
import NIOWebSocket
import Synchronization

/// Where a charger stands after its last BootNotification (or, before one, as the station is set).
enum RegistrationState: String, Sendable {
    case accepted = "Accepted"
    case pending = "Pending"
    case rejected = "Rejected"
}

/// One live WebSocket of one charge point.
final class ChargePointConnection: Sendable {
    let chargePointID: String
    let connectionID = UUID()
    let connectedAt: Date
    let outbound: OutboundCalls
    private let writer: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let state: Mutex<State>

    private struct State {
        var registration: RegistrationState
        var lastPongAt: ContinuousClock.Instant = .now
        var closed = false
    }

    init(
        chargePointID: String, writer: NIOAsyncChannelOutboundWriter<WebSocketFrame>, registration: RegistrationState,
        connectedAt: Date, outboundCapacity: Int, callTimeout: Duration,
        observe: @escaping @Sendable (String, String, Duration) -> Void
    ) {
        self.chargePointID = chargePointID
        self.writer = writer
        self.connectedAt = connectedAt
        self.state = Mutex(State(registration: registration))
        let sendText: @Sendable (String) async throws -> Void = { text in
            try await writer.write(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
        }
        self.outbound = OutboundCalls(capacity: outboundCapacity, timeout: callTimeout, send: sendText, observe: observe)
    }

    var registration: RegistrationState {
        get { state.withLock { $0.registration } }
        set { state.withLock { $0.registration = newValue } }
    }

    func sendText(_ text: String) async throws {
        try await writer.write(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    func sendFrame(_ frame: WebSocketFrame) async throws {
        try await writer.write(frame)
    }

    func pongReceived() {
        state.withLock { $0.lastPongAt = .now }
    }

    var lastPongAt: ContinuousClock.Instant { state.withLock { $0.lastPongAt } }

    /// Sends a close frame (once) and ends the outbound side; the read loop then ends.
    func close(code: WebSocketErrorCode = .normalClosure) async {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        try? await writer.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
        writer.finish()
        await outbound.close()
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
