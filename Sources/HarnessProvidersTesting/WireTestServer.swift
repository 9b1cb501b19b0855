//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 (port chosen by the system) that answers with
/// whatever a test scripts: recorded provider streams, split into any chunks, delayed,
/// cut off, or reset. Provider adapters are tested against it over real sockets.
///
/// ```swift
/// let server = try await WireTestServer.start { request in
///     .init(status: 200, headers: [("content-type", "text/event-stream")], body: bytes, chunking: .everyByte)
/// }
/// defer { server.shutdown() }
/// ```
public final class WireTestServer: Sendable {
    /// A request the server received.
    public struct Request: Sendable {
        public var method: String
        /// The request target as sent: a path, or an absolute URL when sent to a proxy.
        public var uri: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        /// The first value of a header (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The body as JSON, if it is.
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// How a reply's body is written.
    public enum Chunking: Sendable, Hashable {
        /// In one write, with a Content-Length.
        case whole
        /// One chunked-encoding frame per byte, each flushed.
        case everyByte
        /// Two frames, split after this many bytes.
        case splitAt(Int)
        /// Frames of these sizes (the rest in a last frame).
        case sizes([Int])
    }

    /// What the server answers.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        public var chunking: Chunking
        /// Wait this long before sending the response head.
        public var headDelay: Duration?
        /// Wait this long before each body frame.
        public var chunkDelay: Duration?
        /// Send only this many body bytes, then reset the connection (TCP RST).
        public var resetAfter: Int?
        /// Send this many body bytes, then stop sending but keep the connection open.
        public var stallAfter: Int?
        /// Close the connection after the whole response, without saying so in a header
        /// (as a server does when it drops a kept-alive connection).
        public var closeAfterResponse: Bool
        /// Close the connection without answering at all.
        public var dropConnection: Bool

        public init(
            status: Int = 200,
            headers: [(name: String, value: String)] = [],
            body: [UInt8] = [],
            chunking: Chunking = .whole,
            headDelay: Duration? = nil,
            chunkDelay: Duration? = nil,
            resetAfter: Int? = nil,
            stallAfter: Int? = nil,
            closeAfterResponse: Bool = false,
            dropConnection: Bool = false
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.chunking = chunking
            self.headDelay = headDelay
            self.chunkDelay = chunkDelay
            self.resetAfter = resetAfter
            self.stallAfter = stallAfter
            self.closeAfterResponse = closeAfterResponse
            self.dropConnection = dropConnection
        }

        /// A JSON reply.
        public static func json(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = []) -> Reply {
            Reply(status: status, headers: [("content-type", "application/json")] + headers, body: Array(text.utf8))
        }

        /// A server-sent-events reply.
        public static func sse(_ bytes: [UInt8], chunking: Chunking = .whole, headers: [(name: String, value: String)] = []) -> Reply {
            Reply(status: 200, headers: [("content-type", "text/event-stream")] + headers, body: bytes, chunking: chunking)
        }
    }

    private let channel: any Channel
    private let received: Mutex<[Request]>
    private let closedConnections: Mutex<Int>
    private let acceptedConnections: Mutex<Int>

    /// The port it listens on.
    public let port: Int

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
        self.received = Mutex([])
        self.closedConnections = Mutex(0)
        self.acceptedConnections = Mutex(0)
    }

    /// Every request received so far, in order.
    public var requests: [Request] { received.withLock { $0 } }

    /// How many client connections have closed so far.
    public var closedConnectionCount: Int { closedConnections.withLock { $0 } }

    /// How many client connections were accepted so far.
    public var acceptedConnectionCount: Int { acceptedConnections.withLock { $0 } }

    /// Starts a server that answers each request with `handler`'s reply.
    public static func start(_ handler: @escaping @Sendable (Request) -> Reply) async throws -> WireTestServer {
        let log = Log()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(ReplyHandler(handler: handler, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        let server = WireTestServer(channel: channel, port: port)
        log.server.withLock { $0 = server }
        return server
    }

    /// Stops listening.
    public func shutdown() {
        channel.close(promise: nil)
    }

    fileprivate func record(_ request: Request) { received.withLock { $0.append(request) } }
    fileprivate func connectionClosed() { closedConnections.withLock { $0 += 1 } }
    fileprivate func connectionAccepted() { acceptedConnections.withLock { $0 += 1 } }

    fileprivate final class Log: Sendable {
        let server = Mutex<WireTestServer?>(nil)
    }
}

private final class ReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: @Sendable (WireTestServer.Request) -> WireTestServer.Reply
    let log: WireTestServer.Log
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(handler: @escaping @Sendable (WireTestServer.Request) -> WireTestServer.Reply, log: WireTestServer.Log) {
        self.handler = handler
        self.log = log
    }

    func channelActive(context: ChannelHandlerContext) {
        log.server.withLock { $0 }?.connectionAccepted()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.server.withLock { $0 }?.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(var buffer):
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else { return }
            let request = WireTestServer.Request(
                method: head.method.rawValue,
                uri: head.uri,
                headers: head.headers.map { ($0.name, $0.value) },
                body: body
            )
            log.server.withLock { $0 }?.record(request)
            let reply = handler(request)
            if reply.dropConnection {
                context.close(promise: nil)
                return
            }
            send(reply, context: context, keepAlive: head.isKeepAlive)
        }
    }

    private func send(_ reply: WireTestServer.Reply, context: ChannelHandlerContext, keepAlive: Bool) {
        let loop = context.eventLoop
        var headers = HTTPHeaders(reply.headers)
        var frames: [[UInt8]]
        var body = reply.body
        let cutAt = reply.resetAfter ?? reply.stallAfter
        if let cutAt { body = Array(body.prefix(cutAt)) }
        switch reply.chunking {
        case .whole:
            frames = body.isEmpty ? [] : [body]
            if cutAt == nil {
                headers.replaceOrAdd(name: "content-length", value: String(reply.body.count))
            } else {
                headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            }
        case .everyByte:
            frames = body.map { [$0] }
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        case .splitAt(let n):
            let k = min(max(0, n), body.count)
            frames = [Array(body[..<k]), Array(body[k...])].filter { !$0.isEmpty }
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        case .sizes(let sizes):
            frames = []
            var i = 0
            for size in sizes where i < body.count {
                let j = min(body.count, i + max(1, size))
                frames.append(Array(body[i..<j]))
                i = j
            }
            if i < body.count { frames.append(Array(body[i...])) }
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        }
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        let contextBox = NIOLoopBound(context, eventLoop: loop)
        let handlerBox = NIOLoopBound(self, eventLoop: loop)

        @Sendable func after(_ delay: Duration?, _ work: @escaping @Sendable () -> Void) {
            if let delay, delay > .zero {
                loop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)) { work() }
            } else {
                work()
            }
        }

        let framesBox = NIOLoopBound(frames, eventLoop: loop)
        @Sendable func writeFrame(_ index: Int) {
            let context = contextBox.value
            let frames = framesBox.value
            guard context.channel.isActive else { return }
            if index == frames.count {
                if reply.resetAfter != nil {
                    // An abortive close: SO_LINGER 0 makes the kernel send RST.
                    if let socket = context.channel as? any SocketOptionProvider {
                        socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in contextBox.value.close(promise: nil) }
                    } else {
                        context.close(promise: nil)
                    }
                    return
                }
                if reply.stallAfter != nil { return }
                context.writeAndFlush(handlerBox.value.wrapOutboundOut(.end(nil)), promise: nil)
                if !keepAlive || reply.closeAfterResponse { context.close(promise: nil) }
                return
            }
            var next = index
            repeat {
                var buffer = context.channel.allocator.buffer(capacity: frames[next].count)
                buffer.writeBytes(frames[next])
                context.writeAndFlush(handlerBox.value.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                next += 1
            } while reply.chunkDelay == nil && next < frames.count
            let following = next
            after(reply.chunkDelay) { writeFrame(following) }
        }

        after(reply.headDelay) {
            let context = contextBox.value
            guard context.channel.isActive else { return }
            context.writeAndFlush(handlerBox.value.wrapOutboundOut(.head(head)), promise: nil)
            after(reply.chunkDelay) { writeFrame(0) }
        }
    }
}
