import NIOCore
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// Answers every OCPP-J CALL with a canned CALLRESULT of the right shape for its action, without
/// parsing the payload: the least work a central system can do per message.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var clock = UTCClockText()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            let text = frame.unmaskedData
            guard let call = CallHead(text), call.messageType == 2 else { return }
            var reply = context.channel.allocator.buffer(capacity: 160)
            reply.writeStaticString("[3,\"")
            reply.writeString(call.messageID)
            reply.writeStaticString("\",")
            writePayload(for: call.action, into: &reply)
            reply.writeStaticString("]")
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: reply)), promise: nil)
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            var code = context.channel.allocator.buffer(capacity: 2)
            code.write(webSocketErrorCode: .normalClosure)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func writePayload(for action: String, into buffer: inout ByteBuffer) {
        switch action {
        case "BootNotification":
            buffer.writeStaticString("{\"status\":\"Accepted\",\"currentTime\":\"")
            buffer.writeString(clock.now())
            buffer.writeStaticString("\",\"interval\":300}")
        case "Heartbeat":
            buffer.writeStaticString("{\"currentTime\":\"")
            buffer.writeString(clock.now())
            buffer.writeStaticString("\"}")
        case "Authorize", "StopTransaction":
            buffer.writeStaticString("{\"idTagInfo\":{\"status\":\"Accepted\"}}")
        case "StartTransaction":
            buffer.writeStaticString("{\"transactionId\":1,\"idTagInfo\":{\"status\":\"Accepted\"}}")
        case "DataTransfer":
            buffer.writeStaticString("{\"status\":\"Accepted\"}")
        default:
            // MeterValues, StatusNotification and the other notifications have an empty answer.
            buffer.writeStaticString("{}")
        }
    }
}

/// The first three elements of an OCPP-J frame (`[type, "id", "Action", …`), read without a JSON
/// parser. Enough for canned answers; message ids with escaped quotes are not expected here.
struct CallHead {
    var messageType: Int
    var messageID: String
    var action: String

    init?(_ buffer: ByteBuffer) {
        let bytes = buffer.readableBytesView
        var index = bytes.startIndex
        func skip(_ allowed: Set<UInt8>) {
            while index < bytes.endIndex, allowed.contains(bytes[index]) { index += 1 }
        }
        func quoted() -> String? {
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            index = end + 1
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        skip(space)
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        skip(space)
        guard index < bytes.endIndex, (0x30...0x39).contains(bytes[index]) else { return nil }
        messageType = Int(bytes[index] - 0x30)
        index += 1
        skip(space.union([UInt8(ascii: ",")]))
        guard let id = quoted() else { return nil }
        messageID = id
        skip(space.union([UInt8(ascii: ",")]))
        action = quoted() ?? ""
    }
}

/// The current UTC time as ISO 8601 text, formatted once per second.
struct UTCClockText {
    private var second = 0
    private var text = ""

    mutating func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let seconds = spec.tv_sec
        if seconds != second || text.isEmpty {
            second = seconds
            var time = seconds
            var parts = tm()
            gmtime_r(&time, &parts)
            func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
            text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
                + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
        }
        return text
    }
}
