import NIOConcurrencyHelpers
import NIOCore

/// Caps the open connections (HTTP and OCPP WebSockets alike), so that a flood of sockets exhausts
/// this count rather than the process's file descriptors, which the database and the accept loop
/// need too. A connection over the cap gets a minimal `503` written straight to the socket and is
/// closed, before any HTTP parsing: a clear refusal that costs almost nothing.
final class ConnectionLimiter: Sendable {
    let maximum: Int
    private let open = NIOLockedValueBox(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    var count: Int { open.withLockedValue { $0 } }

    /// Takes a slot for `channel`, given back when it closes; false when every slot is taken.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = open.withLockedValue { open in
            guard open < maximum else { return false }
            open += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in self.open.withLockedValue { $0 -= 1 } }
        }
        return admitted
    }

    /// Writes the refusal once the socket is active, then closes it.
    final class RefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer

        static let response: String = {
            let body = "too many open connections\n"
            return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: \(body.utf8.count)\r\nRetry-After: 5\r\nConnection: close\r\n\r\n" + body
        }()
        private var refused = false

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { refuse(context: context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            refuse(context: context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        private func refuse(context: ChannelHandlerContext) {
            guard !refused else { return }
            refused = true
            let buffer = context.channel.allocator.buffer(string: Self.response)
            context.writeAndFlush(NIOAny(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension ConnectionLimiter.RefusalHandler: Sendable {}
