import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

// Usage: ocpp-load HOST PORT CHARGERS SECONDS [PREFIX]
// The server should run with CSMS_OCPP_AUTO_REGISTER=true so that the simulated chargers exist.
let arguments = CommandLine.arguments
guard arguments.count >= 5, let port = Int(arguments[2]), let chargers = Int(arguments[3]), let seconds = Int(arguments[4]) else {
    print("usage: ocpp-load HOST PORT CHARGERS SECONDS [PREFIX]")
    exit(2)
}
let host = arguments[1]
let prefix = arguments.count > 5 ? arguments[5] : "LOAD-"

final class Stats: Sendable {
    private struct State {
        var latenciesMicros: [Int] = []
        var errors = 0
        var callErrors = 0
        var connected = 0
    }
    private let state = Mutex(State())
    func record(_ micros: Int) { state.withLock { $0.latenciesMicros.append(micros) } }
    func error() { state.withLock { $0.errors += 1 } }
    func callError() { state.withLock { $0.callErrors += 1 } }
    func connected() { state.withLock { $0.connected += 1 } }
    func report(duration: Double) -> String {
        state.withLock { state in
            let sorted = state.latenciesMicros.sorted()
            func percentile(_ p: Double) -> Double {
                sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
            }
            return String(
                format: "connected %d, messages %d in %.1f s = %.0f msg/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; CALLERRORs %d, errors %d",
                state.connected, sorted.count, duration, Double(sorted.count) / duration, percentile(0.5), percentile(0.99),
                Double(sorted.last ?? 0) / 1000, state.callErrors, state.errors)
        }
    }
}

let stats = Stats()
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let deadline = ContinuousClock.now + .seconds(seconds)

enum Upgrade: Sendable {
    case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
    case refused
}

func connect(_ identity: String) async throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
    let upgradeResult: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: group)
        .connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                    maxFrameSize: 1 << 16,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                        }
                    })
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "\(host):\(port)")
                headers.add(name: "Sec-WebSocket-Protocol", value: "ocpp1.6")
                headers.add(name: "Content-Length", value: "0")
                let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ocpp/\(identity)", headers: headers)
                let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                    upgradeRequestHead: request, upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.refused) })
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                    configuration: .init(upgradeConfiguration: configuration))
            }
        }
    guard case .websocket(let channel) = try await upgradeResult.get() else { throw ChannelError.inputClosed }
    return channel
}

func frame(_ text: String) -> WebSocketFrame {
    var generator = SystemRandomNumberGenerator()
    let key = WebSocketMaskingKey.random(using: &generator)
    return WebSocketFrame(fin: true, opcode: .text, maskKey: key, data: ByteBuffer(string: text))
}

func runCharger(_ index: Int) async {
    let identity = "\(prefix)\(index)"
    do {
        let channel = try await connect(identity)
        stats.connected()
        try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var sequence = 0
            func exchange(_ action: String, _ payload: String, timed: Bool) async throws {
                sequence += 1
                let id = "\(index)-\(sequence)"
                let started = ContinuousClock.now
                try await outbound.write(frame("[2,\"\(id)\",\"\(action)\",\(payload)]"))
                while let reply = try await iterator.next() {
                    guard reply.opcode == .text else { continue }
                    let text = String(buffer: reply.unmaskedData)
                    if text.hasPrefix("[4") { stats.callError() }
                    if timed {
                        let elapsed = ContinuousClock.now - started
                        stats.record(Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
                    }
                    return
                }
                throw ChannelError.inputClosed
            }
            try await exchange("BootNotification", #"{"chargePointVendor":"Load","chargePointModel":"Sim"}"#, timed: false)
            var register = 0
            while ContinuousClock.now < deadline {
                register += 137
                let now = Date().formatted(.iso8601)
                switch sequence % 3 {
                case 0: try await exchange("Heartbeat", "{}", timed: true)
                case 1:
                    try await exchange(
                        "StatusNotification", #"{"connectorId":1,"errorCode":"NoError","status":"Available"}"#, timed: true)
                default:
                    try await exchange(
                        "MeterValues",
                        #"{"connectorId":1,"meterValue":[{"timestamp":"\#(now)","sampledValue":[{"value":"\#(register)","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}"#,
                        timed: true)
                }
            }
            var code = ByteBuffer()
            code.write(webSocketErrorCode: .normalClosure)
            var generator = SystemRandomNumberGenerator()
            try? await outbound.write(
                WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(using: &generator), data: code))
        }
    } catch {
        stats.error()
    }
}

let started = ContinuousClock.now
await withTaskGroup(of: Void.self) { tasks in
    for index in 0..<chargers {
        tasks.addTask { await runCharger(index) }
        if index % 100 == 99 { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
let elapsed = ContinuousClock.now - started
print(stats.report(duration: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
try await group.shutdownGracefully()
