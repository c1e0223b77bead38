import Logging
import NIOCore
import NIOWebSocket

/// The frames of one charge point's WebSocket: reads them, answers pings, notes pongs, reassembles
/// fragments and hands each text message to `process` — on a task of its own, one message at a
/// time and in order, so a slow handler never stops control frames from being read (a charger
/// whose CALL takes long is not taken for dead because its pongs went unread).
struct ChargePointFrameLoop: Sendable {
    let connection: ChargePointConnection
    let maxFrameSize: Int
    /// How often we ping; nil: never (and never close a silent peer).
    let pingInterval: Duration?
    /// Text messages read ahead of the one being handled before reading waits.
    let readAhead: Int
    let logger: Logger

    static let defaultReadAhead = 16

    /// Runs until the peer closes (after the messages already read are handled) or until the
    /// keep-alive gives up on a silent peer (then reading and handling are cancelled).
    func run(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, process: @escaping @Sendable (String) async -> Void
    ) async {
        let messages = InboundMessages(capacity: readAhead)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { session in
                    session.addTask {
                        await withTaskCancellationHandler {
                            await read(inbound, into: messages)
                        } onCancel: {
                            Task { await messages.finish() }
                        }
                        await messages.finish()
                    }
                    session.addTask {
                        await withTaskCancellationHandler {
                            while let message = await messages.take() { await process(message) }
                        } onCancel: {
                            Task { await messages.finish() }
                        }
                    }
                }
            }
            if let pingInterval {
                group.addTask { await keepAlive(every: pingInterval) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Pings at the interval; returns (ending the connection) when the peer has not answered
    /// the last two pings. Runs until cancelled otherwise.
    private func keepAlive(every interval: Duration) async {
        while true {
            do { try await Task.sleep(for: interval) } catch { return }
            if ContinuousClock.now - connection.lastPongAt > interval * 2 + .seconds(1) {
                logger.notice("no pong from the charge point; closing")
                await connection.close(code: .goingAway)
                return
            }
            try? await connection.sendFrame(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "csms")))
        }
    }

    private func read(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, into messages: InboundMessages) async {
        var fragments: ByteBuffer?
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text:
                    if frame.fin {
                        guard await messages.put(String(buffer: frame.unmaskedData)) else { return }
                    } else {
                        fragments = frame.unmaskedData
                    }
                case .continuation:
                    guard var buffer = fragments else { continue }
                    var data = frame.unmaskedData
                    buffer.writeBuffer(&data)
                    guard buffer.readableBytes <= maxFrameSize else {
                        await connection.close(code: .messageTooLarge)
                        return
                    }
                    if frame.fin {
                        fragments = nil
                        guard await messages.put(String(buffer: buffer)) else { return }
                    } else {
                        fragments = buffer
                    }
                case .ping:
                    try await connection.sendFrame(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .pong:
                    connection.pongReceived()
                case .connectionClose:
                    await connection.close()
                    return
                case .binary:
                    await connection.close(code: .unacceptableData)
                    return
                default:
                    continue
                }
            }
        } catch {
            logger.debug("read loop ended", metadata: ["error": .string("\(error)")])
        }
    }
}
