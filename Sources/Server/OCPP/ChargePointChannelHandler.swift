import Logging
import NIOCore
import NIOWebSocket

/// Reads one charge point's WebSocket on its channel's event loop: reassembles fragments, answers
/// pings, notes pongs, pings a silent peer and closes it after two unanswered pings, and hands each
/// text message to `receive` — which delivers answers to our CALLs at once and queues the
/// charger's CALLs for the connection's consumer. Reading pauses while that queue is full.
final class ChargePointChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    typealias Receive = @Sendable (ByteBuffer, ChargePointConnection) -> Void

    private let connection: ChargePointConnection
    private let maxMessageSize: Int
    private let pingInterval: TimeAmount?
    private let receive: Receive
    private let logger: Logger
    private var fragments: ByteBuffer?
    private var lastPong = NIODeadline.now()
    private var keepAlive: RepeatedTask?

    init(connection: ChargePointConnection, maxMessageSize: Int, pingInterval: TimeAmount?, logger: Logger, receive: @escaping Receive) {
        self.connection = connection
        self.maxMessageSize = maxMessageSize
        self.pingInterval = pingInterval
        self.logger = logger
        self.receive = receive
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let interval = pingInterval else { return }
        lastPong = .now()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        keepAlive = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBound.value.ping(contextBound.value, interval: interval)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        keepAlive?.cancel()
        keepAlive = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        keepAlive?.cancel()
        keepAlive = nil
        connection.closed()
        context.fireChannelInactive()
    }

    /// Holds the read while the connection's CALL queue is full; `InboundCalls` asks again
    /// (`ChargePointConnection.resumeReading`) when there is room.
    func read(context: ChannelHandlerContext) {
        guard connection.inbound.count < connection.inbound.capacity else { return }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if frame.fin {
                receive(frame.unmaskedData, connection)
            } else {
                fragments = frame.unmaskedData
            }
        case .continuation:
            guard var buffer = fragments else { return }
            var data = frame.unmaskedData
            buffer.writeBuffer(&data)
            guard buffer.readableBytes <= maxMessageSize else {
                fragments = nil
                connection.close(code: .messageTooLarge)
                return
            }
            if frame.fin {
                fragments = nil
                receive(buffer, connection)
            } else {
                fragments = buffer
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            lastPong = .now()
        case .connectionClose:
            connection.close()
        case .binary:
            connection.close(code: .unacceptableData)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("charge point socket error", metadata: ["error": .string("\(error)")])
        context.close(promise: nil)
    }

    private func ping(_ context: ChannelHandlerContext, interval: TimeAmount) {
        if NIODeadline.now() - lastPong > interval * 2 + .seconds(1) {
            logger.notice("no pong from the charge point; closing")
            keepAlive?.cancel()
            connection.close(code: .goingAway)
            return
        }
        var data = context.channel.allocator.buffer(capacity: 4)
        data.writeString("csms")
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: data)), promise: nil)
    }
}
