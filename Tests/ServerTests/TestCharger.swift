import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import OCPP
import Testing

@testable import Server

/// A charge point on an in-memory channel, wired as the server wires a real one: the
/// `ChargePointChannelHandler` in the pipeline, each text frame through `OCPPService.receive`. The
/// test plays the charger: `send` writes a frame as if it came off the socket, `next` reads what
/// the server wrote.
struct TestCharger: Sendable {
    let channel: NIOAsyncTestingChannel
    let connection: ChargePointConnection
    let service: OCPPService

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// Attaches a charger to `service`; with `register`, it is also the station's live connection
    /// (as after a real upgrade), so commands reach it.
    static func connect(
        _ service: OCPPService, id: String = "CP1", registration: RegistrationState = .accepted, register: Bool = false,
        authenticatedOverTLS: Bool = false
    ) async throws -> TestCharger {
        let channel = NIOAsyncTestingChannel()
        let acceptance = OCPPAcceptance(
            chargePointID: id, subprotocol: OCPP16.subprotocol, registration: registration, authenticatedOverTLS: authenticatedOverTLS)
        let connection = try await channel.testingEventLoop.executeInContext {
            try service.attach(channel, acceptance, logger: Self.logger)
        }
        if register { await service.connected(connection, channel: channel, logger: Self.logger) }
        return TestCharger(channel: channel, connection: connection, service: service)
    }

    /// A text frame from the charger.
    func send(_ text: String) async throws {
        try await channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    /// The next frame the server wrote; fails after `limit` rather than hanging the suite.
    func nextFrame(within limit: Duration = .seconds(10)) async throws -> WebSocketFrame {
        try await channel.nextFrame(within: limit)
    }

    /// The next text frame the server wrote, parsed.
    func next(within limit: Duration = .seconds(10)) async throws -> [JSONValue] {
        try await channel.nextMessage(within: limit)
    }

    /// Reads the server's next frame, which must be a CALL of `action`, and answers it with `payload`.
    @discardableResult
    func answerCall(_ action: String, with payload: String, within limit: Duration = .seconds(10)) async throws -> [JSONValue] {
        let call = try await next(within: limit)
        #expect(call.count == 4 && call[0] == .int(2) && call[2] == .string(action), "expected a \(action) CALL: \(call)")
        guard call.count > 1, case .string(let id) = call[1] else { throw TestChargerError.notACall(call) }
        try await send(#"[3,"\#(id)",\#(payload)]"#)
        return call
    }

    func close() async {
        try? await channel.close()
    }
}

enum TestChargerError: Error {
    case nothingWritten(Duration)
    case notText(WebSocketFrame)
    case notACall([JSONValue])
}

extension NIOAsyncTestingChannel {
    /// Polls for the next outbound frame (never blocks past `limit`, unlike `waitForOutboundWrite`).
    /// Each poll runs the tasks due on the channel's loop: a testing loop does not spin by itself,
    /// and the connection handles CALLs on its channel's loop (`EventLoopTaskExecutor`).
    func nextFrame(within limit: Duration = .seconds(10)) async throws -> WebSocketFrame {
        let deadline = ContinuousClock.now + limit
        while true {
            await testingEventLoop.run()
            if let frame = try await readOutbound(as: WebSocketFrame.self) { return frame }
            guard ContinuousClock.now < deadline else { throw TestChargerError.nothingWritten(limit) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The next outbound text frame as an OCPP-J array.
    func nextMessage(within limit: Duration = .seconds(10)) async throws -> [JSONValue] {
        let frame = try await nextFrame(within: limit)
        guard frame.opcode == .text else { throw TestChargerError.notText(frame) }
        guard case .array(let array) = try JSONParser.parse(String(buffer: frame.unmaskedData)) else {
            throw TestChargerError.notText(frame)
        }
        return array
    }
}

extension OCPPService {
    /// This service with other handlers: the registry is a seam for tests of the dispatch path.
    func with(protocols: [OCPPHandlerRegistry], callTimeout: Duration? = nil, pingInterval: Duration? = nil) -> OCPPService {
        var settings = settings
        if let callTimeout { settings.callTimeout = callTimeout }
        if let pingInterval { settings.pingInterval = pingInterval }
        return OCPPService(
            settings: settings, stations: stations, monitoring: monitoring, protocols: protocols, commands: commands,
            recorder: recorder, registry: registry, metrics: metrics, now: now)
    }

    /// A 1.6 registry with only the handlers `register` adds.
    static func registry16(_ register: (inout OCPPHandlerRegistry) -> Void) -> OCPPHandlerRegistry {
        var registry = OCPPHandlerRegistry(subprotocol: OCPP16.subprotocol, actions: OCPP16.allActions)
        register(&registry)
        return registry
    }
}

extension JSONValue {
    /// A member of an object, for reading answers in tests.
    subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }
}
