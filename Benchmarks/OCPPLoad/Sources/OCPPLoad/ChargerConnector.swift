import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens a charger's WebSocket (`/ocpp/{id}`, subprotocol `ocpp1.6`) and installs its handler.
struct ChargerConnector: Sendable {
    var group: MultiThreadedEventLoopGroup
    var host: String
    var port: Int
    var script: ChargerScript

    /// The upgraded channel, or nil when the server refused the upgrade.
    func connect(identity: String, index: Int) async throws -> Channel? {
        let script = script
        let upgraded: EventLoopFuture<Channel?> = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Channel?>(
                        maxFrameSize: 1 << 16,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(ChargerHandler(script: script, index: index))
                                return channel
                            }
                        })
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(host):\(port)")
                    headers.add(name: "Sec-WebSocket-Protocol", value: "ocpp1.6")
                    headers.add(name: "Content-Length", value: "0")
                    let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ocpp/\(identity)", headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                        upgradeRequestHead: request, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeSucceededFuture(nil)
                        })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
        return try await upgraded.get()
    }
}
