import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL
import NIOWebSocket
import X509

/// What to do with a WebSocket upgrade request on `/ocpp/{id}`.
enum OCPPUpgradeDecision: Sendable {
    /// Not an OCPP path: serve it as plain HTTP.
    case notOCPP
    case accept(OCPPAcceptance)
    /// Refuse with this status — 400 (no `ocpp1.6`), 401 (Basic auth), 404 (unknown charger).
    case refuse(HTTPResponse.Status, HTTPFields, String)
}

/// How a connection reached us: over TLS or not, and the common name of the client certificate
/// it presented (already verified against the client CA by the TLS handshake).
struct ConnectionSecurity: Sendable, Equatable {
    var tls: Bool
    var clientCommonName: String?

    static let plain = ConnectionSecurity(tls: false, clientCommonName: nil)

    /// Read off a channel whose TLS handshake is done (on its event loop).
    static func of(_ channel: any Channel) -> ConnectionSecurity {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) else { return .plain }
        let certificate = handler.peerCertificate.flatMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        return ConnectionSecurity(tls: true, clientCommonName: certificate.flatMap { CertificateAuthority.commonName(of: $0.subject) })
    }
}

/// A charger let in: the subprotocol is echoed exactly as the charger spelled it (strict clients
/// abort otherwise); the registration is the station's as stored.
struct OCPPAcceptance: Sendable {
    var chargePointID: String
    var subprotocol: String
    var registration: RegistrationState
    /// Over TLS, and proven by its password or by its own client certificate: only such a
    /// connection may ask our CA for a certificate (a charger moves to profile 3 from profile 2).
    var authenticatedOverTLS = false
    /// How it connected and proved itself, so a later change of its security profile can be
    /// checked against the live connection (`OCPPService.securityProfileRefusal`).
    var security = ConnectionSecurity.plain
    var passwordVerified = false
}

/// One HTTP/1.1 connection that may upgrade to an OCPP WebSocket. It uses NIO's typed WebSocket
/// upgrader directly so that a refused upgrade can answer with its own status (a library
/// upgrade channel answers every refusal with 400); everything else is served by the router.
/// Every connection is counted by `limiter`, and until it upgrades `HTTPConnectionGuard` bounds its
/// header, idle time and malformed input; an OCPP WebSocket has its own ping/pong instead.
struct OCPPServerChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Decide = @Sendable (HTTPRequestHead, ConnectionSecurity) async -> OCPPUpgradeDecision
    /// Puts the charger's handler on the upgraded channel (on its event loop, before any frame is read).
    typealias Attach = @Sendable (any Channel, OCPPAcceptance, Logger) throws -> ChargePointConnection
    /// Registers the connection and sees to its end; returns once it is registered.
    typealias Connected = @Sendable (ChargePointConnection, any Channel, Logger) async -> Void

    enum UpgradeResult: Sendable {
        case websocket(ChargePointConnection, any Channel)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPResponse.Status, HTTPFields, String)
    }

    struct Value: ServerChildChannelValue {
        let result: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let limits: HTTPConnectionLimits
    let limiter: ConnectionLimiter
    let maxFrameSize: Int
    /// HTTPS and WSS on this port when set.
    let tls: NIOSSLContext?
    let decide: Decide
    let attach: Attach
    let connected: Connected

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard limiter.admit(channel) else {
            logger.debug("connection refused: too many open connections", metadata: ["limit": .stringConvertible(limiter.maximum)])
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ConnectionLimiter.RefusalHandler())
                let closed = channel.closeFuture.flatMapThrowing { () throws -> UpgradeResult in throw ChannelError.ioOnClosedChannel }
                return Value(result: closed, channel: channel)
            }
        }
        return channel.eventLoop.makeCompletedFuture {
            // Set while deciding, read when the upgrade is refused; both on this channel's loop.
            if let tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            }
            let refusal = NIOLockedValueBox<(HTTPResponse.Status, HTTPFields, String)?>(nil)
            let accepted = NIOLockedValueBox<OCPPAcceptance?>(nil)
            let guardHandler = HTTPConnectionGuard(
                headerTimeout: TimeAmount(limits.headerTimeout), idleTimeout: TimeAmount(limits.idleTimeout))
            let boundGuard = NIOLoopBound(guardHandler, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                    let security = ConnectionSecurity.of(channel)
                    promise.completeWithTask {
                        switch await decide(head, security) {
                        case .notOCPP:
                            return nil
                        case .accept(let acceptance):
                            accepted.withLockedValue { $0 = acceptance }
                            return HTTPHeaders([("Sec-WebSocket-Protocol", acceptance.subprotocol)])
                        case .refuse(let status, let headers, let reason):
                            refusal.withLockedValue { $0 = (status, headers, reason) }
                            return nil
                        }
                    }
                    // An accepted upgrade leaves HTTP: the guard goes before the decoder does, so that it
                    // never sees WebSocket bytes; the socket is then the WebSocket's ping/pong's to watch.
                    return promise.futureResult.flatMap { headers in
                        guard headers != nil else { return channel.eventLoop.makeSucceededFuture(headers) }
                        return channel.pipeline.syncOperations.removeHandler(boundGuard.value).map { headers }
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard let acceptance = accepted.withLockedValue({ $0 }) else { throw ChannelError.inappropriateOperationForState }
                        return UpgradeResult.websocket(try attach(channel, acceptance, logger), channel)
                    }
                })
            let configuration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: tls != nil))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if let (status, headers, reason) = refusal.withLockedValue({ $0 }) {
                            return UpgradeResult.refused(asyncChannel, status, headers, reason)
                        }
                        return UpgradeResult.http(asyncChannel)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: configuration)
            pipeline.enablePipelining = false
            // The guard answers malformed requests instead (431 as well as 400).
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            pipeline.decoderConfiguration.maxHeaderFieldSize = limits.maxHeaderBytes
            pipeline.decoderConfiguration.maxHeaderListSize = limits.maxHeaderBytes
            pipeline.decoderConfiguration.maxHeaderFieldCount = limits.maxHeaderFields
            let operations = channel.pipeline.syncOperations
            let result = try operations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            let upgradeHandler = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<UpgradeResult>.self)
            try operations.addHandler(guardHandler, position: .before(upgradeHandler))
            return Value(result: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.result.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let status, let headers, let reason):
                logger.info("OCPP connection refused", metadata: ["status": .stringConvertible(status.code), "reason": .string(reason)])
                try await http.executeThenClose { _, outbound in
                    var fields = headers
                    let body = ByteBuffer(string: reason)
                    fields[.connection] = "close"
                    fields[.contentType] = "text/plain; charset=utf-8"
                    fields[.contentLength] = String(body.readableBytes)
                    try await outbound.write(contentsOf: [.head(HTTPResponse(status: status, headerFields: fields)), .body(body), .end(nil)])
                }
            case .websocket(let connection, let channel):
                await connected(connection, channel, logger)
            }
        } catch {
            logger.debug("connection ended during the upgrade", metadata: ["error": .string("\(error)")])
            value.channel.close(promise: nil)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with OCPP WebSocket upgrades on the same port.
    static func ocpp(
        limits: HTTPConnectionLimits, maxFrameSize: Int, tls: NIOSSLContext? = nil, decide: @escaping OCPPServerChannel.Decide,
        attach: @escaping OCPPServerChannel.Attach, connected: @escaping OCPPServerChannel.Connected
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            OCPPServerChannel(
                responder: responder, limits: limits, limiter: ConnectionLimiter(maximum: limits.maxConnections),
                maxFrameSize: maxFrameSize, tls: tls, decide: decide, attach: attach, connected: connected)
        }
    }
}
