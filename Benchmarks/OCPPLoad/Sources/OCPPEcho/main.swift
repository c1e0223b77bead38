import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#endif

// Usage: ocpp-echo [--host 127.0.0.1] [--port 9000] [--threads N]
// Prints "listening on HOST:PORT" once it accepts connections (scripts wait for that line).
var host = "127.0.0.1"
var port = 9000
var threads = System.coreCount
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else {
        print("usage: ocpp-echo [--host H] [--port P] [--threads N]")
        exit(2)
    }
    switch flag {
    case "--host": host = value
    case "--port": port = Int(value) ?? port
    case "--threads": threads = max(1, Int(value) ?? threads)
    default:
        print("unknown flag \(flag)")
        exit(2)
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let upgrader = NIOWebSocketServerUpgrader(
    maxFrameSize: 1 << 16,
    shouldUpgrade: { channel, head in
        // Same contract as the real server: /ocpp/{id} and the ocpp1.6 subprotocol.
        guard head.uri.hasPrefix("/ocpp/"), head.uri.count > 6 else { return channel.eventLoop.makeSucceededFuture(nil) }
        let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)
        guard offered.contains("ocpp1.6") else { return channel.eventLoop.makeSucceededFuture(nil) }
        return channel.eventLoop.makeSucceededFuture(HTTPHeaders([("Sec-WebSocket-Protocol", "ocpp1.6")]))
    },
    upgradePipelineHandler: { channel, _ in
        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
    })

let server = try await ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
        }
    }
    .bind(host: host, port: port)
    .get()
// Written unbuffered: scripts wait for this line while the process keeps running.
let ready = "listening on \(host):\(server.localAddress?.port ?? port)\n"
_ = ready.withCString { write(1, $0, strlen($0)) }
try await server.closeFuture.get()
