import NIOCore
import NIOHTTP1

/// Bounds what one HTTP/1.1 connection may cost before the application sees a request. It sits right
/// after the request decoder, so it sees every request part, every decoder error and every socket read:
/// - a malformed request head is answered `400` (`431` when the head is too large) and the connection
///   closed — the decoder cannot resynchronise, and without an answer the socket would stay open;
/// - a request head must arrive completely within `headerTimeout` of the connection opening, or of the
///   first byte of a later request on a kept-alive connection (slowloris), else `408` and close;
/// - while a request body is read, and between requests, nothing may arrive for `idleTimeout`.
/// While the application produces a response no timer runs: that work is bounded where it is done.
/// It is one of the upgrader's HTTP handlers, so an upgraded OCPP WebSocket no longer has it.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// Bytes of a request head may be arriving; the header deadline runs.
        case readingHead
        /// The head arrived; the body is being read under the idle deadline.
        case readingBody
        /// The whole request arrived; the application is answering.
        case responding
        /// A kept-alive connection between requests, under the idle deadline.
        case betweenRequests
        case closed
    }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var phase = Phase.readingHead
    private var responseInFlight = false
    /// The current request has had its whole response (perhaps before its body was read).
    private var answered = false
    private var closeAfterResponse = false
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            enter(.readingHead, deadline: context.eventLoop.now + headerTimeout, context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        enter(.readingHead, deadline: context.eventLoop.now + headerTimeout, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head:
            answered = false
            enter(.readingBody, deadline: context.eventLoop.now + idleTimeout, context: context)
        case .body:
            deadline = context.eventLoop.now + idleTimeout
        case .end:
            if answered {
                enter(.betweenRequests, deadline: context.eventLoop.now + idleTimeout, context: context)
            } else {
                enter(.responding, deadline: .distantFuture, context: context)
            }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes arrived without completing a head: the next request has started, and from here its
        // head is due within the header timeout, however slowly it trickles in.
        if phase == .betweenRequests {
            enter(.readingHead, deadline: context.eventLoop.now + headerTimeout, context: context)
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch Self.unwrapOutboundIn(data) {
        case .head(let head) where head.status.code < 200 && head.status != .switchingProtocols:
            context.write(data, promise: promise)
        case .head:
            responseInFlight = true
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            responseInFlight = false
            answered = true
            if closeAfterResponse {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                context.writeAndFlush(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                return
            }
            context.write(data, promise: promise)
            if phase == .responding {
                enter(.betweenRequests, deadline: context.eventLoop.now + idleTimeout, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch phase {
        case .readingHead, .betweenRequests:
            // No request reached the application: answer here, the decoder cannot go on.
            let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
            respondAndClose(status, context: context)
        case .readingBody, .responding:
            // The application owns this request: its body stream fails with the error, which the
            // gateway answers as a problem; the connection cannot carry another request after that.
            if answered {
                context.close(promise: nil)
            } else {
                closeAfterResponse = true
            }
            context.fireErrorCaught(error)
        case .closed:
            break
        }
    }

    private func enter(_ next: Phase, deadline: NIODeadline, context: ChannelHandlerContext) {
        phase = next
        self.deadline = deadline
        if deadline == .distantFuture {
            timer?.cancel()
            timer = nil
        } else if timer == nil || deadline < timerDeadline {
            // A later deadline is left to the running timer, which reschedules itself when it wakes early.
            timer?.cancel()
            schedule(at: deadline, context: context)
        }
    }

    private func schedule(at when: NIODeadline, context: ChannelHandlerContext) {
        timerDeadline = when
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
            timer = nil
            guard phase != .closed, phase != .responding else { return }
            // The deadline moves forward with each body part; only wake again when it is really due.
            if deadline > context.eventLoop.now {
                schedule(at: deadline, context: context)
            } else if phase == .readingHead && !responseInFlight {
                respondAndClose(.requestTimeout, context: context)
            } else {
                phase = .closed
                context.close(promise: nil)
            }
        }
    }

    private func respondAndClose(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        phase = .closed
        timer?.cancel()
        timer = nil
        guard !responseInFlight else {
            context.close(promise: nil)
            return
        }
        let head = HTTPResponseHead(
            version: .http1_1, status: status, headers: ["Connection": "close", "Content-Length": "0"])
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTPConnectionGuard: Sendable {}
