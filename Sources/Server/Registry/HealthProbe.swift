import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Asks a URL for its HTTP status; the registry's poller uses it on `{url}/health`.
protocol HealthProbe: Sendable {
    func status(of url: URL, timeout: Duration) async throws -> Int
}

struct HealthProbeError: Error, CustomStringConvertible {
    let description: String
}

/// A minimal HTTP/1.1 GET over NIO: one connection per probe, `Connection: close`, status only.
struct HTTPHealthProbe: HealthProbe {
    let group: any EventLoopGroup

    func status(of url: URL, timeout: Duration) async throws -> Int {
        guard url.scheme == "http", let host = url.host, !host.isEmpty else {
            throw HealthProbeError(description: "only http:// URLs can be probed")
        }
        let port = url.port ?? 80
        let path = url.path.isEmpty ? "/" : url.path
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Int.self)
        let timeoutAmount = TimeAmount.nanoseconds(
            timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeoutAmount)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            promise.fail(error)
            throw HealthProbeError(description: "cannot connect to \(host):\(port)")
        }
        let deadline = eventLoop.scheduleTask(in: timeoutAmount) {
            promise.fail(HealthProbeError(description: "no answer within \(timeout)"))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "csms-registry")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Completes the promise with the response status, or fails it if the connection ends first.
/// Runs on the channel's event loop only, so its state needs no lock.
private final class StatusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<Int>
    private var completed = false

    init(promise: EventLoopPromise<Int>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), !completed {
            completed = true
            promise.succeed(Int(head.status.code))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(with: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(with: HealthProbeError(description: "connection closed before a response"))
        context.fireChannelInactive()
    }

    private func finish(with error: any Error) {
        guard !completed else { return }
        completed = true
        promise.fail(error)
    }
}
