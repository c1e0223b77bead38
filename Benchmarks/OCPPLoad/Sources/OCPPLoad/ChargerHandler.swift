import NIOCore
import NIOWebSocket

/// One simulated charge point on its channel's event loop: sends a CALL, waits for its answer
/// (or the call timeout), then sends the next, as real chargers do.
final class ChargerHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Step {
        case boot, authorize, start, meter(Int), stop, heartbeat, idle
    }

    private struct Pending {
        var id: String
        var action: OCPPAction
        var sentAt: NIODeadline
        var timeout: Scheduled<Void>
    }

    private let script: ChargerScript
    private let index: Int
    private var context: ChannelHandlerContext?
    private var step = Step.boot
    private var pending: Pending?
    private var sequence = 0
    private var transactionID = 0
    private var registerWh: Int
    private var finished = false
    private var clock = UTCClockText()
    private var heartbeats: RepeatedTask?

    init(script: ChargerScript, index: Int) {
        self.script = script
        self.index = index
        // A plausible lifetime register, different per charger.
        registerWh = 1_000_000 + index * 7_919
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is StartScript { send(.boot) } else { context.fireUserInboundEventTriggered(event) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.timeout.cancel()
        pending = nil
        heartbeats?.cancel()
        if !finished { script.recorder.closed() }
        finished = true
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text: answer(frame.unmaskedData)
        case .ping: write(frame.unmaskedData, opcode: .pong)
        case .connectionClose: context.close(promise: nil)
        default: break
        }
    }

    private func answer(_ text: ByteBuffer) {
        let now = NIODeadline.now()
        guard let pending, let reply = ReplyHead(text), reply.messageID == pending.id, reply.messageType != 2 else {
            script.recorder.unexpectedReply()
            return
        }
        pending.timeout.cancel()
        self.pending = nil
        let callError = reply.messageType == 4
        script.recorder.answered(pending.action, sentAt: pending.sentAt, at: now, callError: callError)
        switch step {
        case .boot:
            if script.mode == .idle {
                step = .idle
                scheduleHeartbeats()
            } else {
                send(.authorize)
            }
        case .authorize: send(.start)
        case .start:
            transactionID = callError ? 0 : (reply.transactionID(in: text) ?? 0)
            send(.meter(0))
        case .meter(let done):
            send(done + 1 < script.meterValuesPerTransaction ? .meter(done + 1) : .stop)
        case .stop: send(.authorize)
        case .heartbeat, .idle: step = .idle
        }
    }

    private func scheduleHeartbeats() {
        guard let context else { return }
        // Spread over the interval, as a fleet that booted at different times would be.
        let interval = script.heartbeat.nanoseconds
        let offset = TimeAmount.nanoseconds(Int64.random(in: 0..<max(1, interval)))
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        heartbeats = context.eventLoop.scheduleRepeatedTask(initialDelay: offset, delay: script.heartbeat) { _ in
            let handler = bound.value
            if handler.pending == nil, !handler.finished { handler.send(.heartbeat) }
        }
    }

    private func send(_ next: Step) {
        guard let context, !finished else { return }
        if script.mode == .closed, NIODeadline.now() >= script.stopSendingAt {
            finish()
            return
        }
        step = next
        sequence += 1
        let id = String(sequence)
        let timestamp = clock.now()
        let action: OCPPAction
        var text = context.channel.allocator.buffer(capacity: 512)
        text.writeString("[2,\"\(id)\",\"")
        switch next {
        case .boot:
            action = .bootNotification
            text.writeString(#"BootNotification",{"chargePointVendor":"OCPPLoad","chargePointModel":"Sim-22","chargePointSerialNumber":"SIM-\#(index)","firmwareVersion":"1.0.0"}]"#)
        case .authorize:
            action = .authorize
            text.writeString(#"Authorize",{"idTag":"\#(script.idTag)"}]"#)
        case .start:
            action = .startTransaction
            text.writeString(
                #"StartTransaction",{"connectorId":1,"idTag":"\#(script.idTag)","meterStart":\#(registerWh),"timestamp":"\#(timestamp)"}]"#)
        case .meter:
            action = .meterValues
            // About a minute of charging at 11 kW per sample.
            registerWh += 183
            let current = 15.5 + Double(sequence % 10) / 10
            text.writeString(
                #"MeterValues",{"connectorId":1,"transactionId":\#(transactionID),"meterValue":[{"timestamp":"\#(timestamp)","sampledValue":[{"value":"\#(registerWh)","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"\#(Int(current * 690))","context":"Sample.Periodic","measurand":"Power.Active.Import","unit":"W"},{"value":"\#(current)","context":"Sample.Periodic","measurand":"Current.Import","phase":"L1","unit":"A"}]}]}]"#)
        case .stop:
            action = .stopTransaction
            text.writeString(
                #"StopTransaction",{"transactionId":\#(transactionID),"idTag":"\#(script.idTag)","meterStop":\#(registerWh),"timestamp":"\#(timestamp)","reason":"Local"}]"#)
        case .heartbeat, .idle:
            action = .heartbeat
            text.writeString(#"Heartbeat",{}]"#)
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timeout = context.eventLoop.scheduleTask(in: script.callTimeout) {
            let handler = bound.value
            guard handler.pending?.id == id else { return }
            handler.script.recorder.timedOut()
            handler.finished = true
            handler.context?.close(promise: nil)
        }
        pending = Pending(id: id, action: action, sentAt: .now(), timeout: timeout)
        write(text, opcode: .text)
    }

    /// Ends a closed-loop charger politely: a close frame, then the socket.
    private func finish() {
        guard let context, !finished else { return }
        finished = true
        var code = context.channel.allocator.buffer(capacity: 2)
        code.write(webSocketErrorCode: .normalClosure)
        write(code, opcode: .connectionClose)
        context.close(promise: nil)
    }

    private func write(_ data: ByteBuffer, opcode: WebSocketOpcode) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: data)
        context?.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }
}
