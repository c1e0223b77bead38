import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Server

/// The guard's deadlines on an embedded channel, whose clock only moves when told to.
@Suite("HTTP connection guard: header and idle deadlines")
struct HTTPConnectionGuardTests {
    private func connection(headerTimeout: Int64, idleTimeout: Int64) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            HTTPResponseEncoder(),
            ByteToMessageHandler(HTTPRequestDecoder()),
            HTTPConnectionGuard(headerTimeout: .seconds(headerTimeout), idleTimeout: .seconds(idleTimeout)),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        while try channel.readInbound(as: HTTPServerRequestPart.self) != nil {}
    }

    private func answer(_ channel: EmbeddedChannel) throws {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        while try channel.readOutbound(as: ByteBuffer.self) != nil {}
    }

    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test("a silent new connection is answered 408 and closed at the header timeout")
    func silentConnection() throws {
        let channel = try connection(headerTimeout: 2, idleTimeout: 60)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(try written(channel).hasPrefix("HTTP/1.1 408"))
        #expect(!channel.isActive)
    }

    @Test("a head trickling in on a kept-alive connection is cut off at the header timeout, not the idle one")
    func trickleAfterKeepAlive() throws {
        let channel = try connection(headerTimeout: 2, idleTimeout: 60)
        try send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        try answer(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(channel.isActive, "between requests only the idle timeout applies")
        try send("GET /health HTTP/1.1\r\n", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        try send("X-Drip: 1\r\n", to: channel)
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1100))
        #expect(!channel.isActive, "dripping bytes does not extend the header deadline")
    }

    @Test("a kept-alive connection with nothing to send is closed at the idle timeout")
    func idleBetweenRequests() throws {
        let channel = try connection(headerTimeout: 2, idleTimeout: 5)
        try send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        try answer(channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(4900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test("a body may pause for less than the idle timeout each time, and no longer")
    func bodyPauses() throws {
        let channel = try connection(headerTimeout: 2, idleTimeout: 5)
        try send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        try send("cd", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive, "each part moves the idle deadline")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1100))
        #expect(!channel.isActive)
    }

    @Test("no deadline runs while the application answers a complete request")
    func responding() throws {
        let channel = try connection(headerTimeout: 2, idleTimeout: 5)
        try send("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
        _ = try? channel.finish()
    }
}
