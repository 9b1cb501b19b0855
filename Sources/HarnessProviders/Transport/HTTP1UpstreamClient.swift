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

/// A lean HTTP/1.1 client with keep-alive connections, for provider endpoints reached over
/// plain HTTP without a proxy: local model servers (Ollama, vLLM, llama.cpp), another gateway,
/// a sidecar. ``ProviderHTTPClient`` sends those requests here and everything else (HTTPS,
/// proxies) through AsyncHTTPClient.
///
/// Why a second client: in front of a fast upstream the gateway's cost per request was mostly
/// AsyncHTTPClient's request path (state machines, a request head and body written in two
/// system calls, a deadline watchdog task per request). Here a request is written in one
/// flush, its deadlines are one event-loop timer, and a caller already running on one of the
/// event loops (a Hummingbird handler) gets a connection on that same loop, so no thread hop
/// separates the incoming request from the outgoing one.
final class HTTP1UpstreamClient: Sendable {
    struct Origin: Hashable, Sendable {
        var host: String
        var port: Int
    }

    /// A URL taken apart once: where to connect, what to ask for.
    struct Target: Sendable {
        var origin: Origin
        var path: String
        var hostHeader: String
    }

    struct Connection: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<HTTP1ConnectionHandler>
    }

    private let group: MultiThreadedEventLoopGroup
    private let loops: Set<ObjectIdentifier>
    private let idle = Mutex<[Origin: [Connection]]>([:])
    private let closed = Atomic<Bool>(false)
    /// Idle connections kept per origin; more are closed when released.
    let maxIdlePerOrigin: Int

    init(group: MultiThreadedEventLoopGroup = .singleton, maxIdlePerOrigin: Int = 256) {
        self.group = group
        self.loops = Set(group.makeIterator().map { ObjectIdentifier($0) })
        self.maxIdlePerOrigin = maxIdlePerOrigin
    }

    /// The target of `url` when this client serves it: `http` with a host.
    static func target(_ url: String) -> Target? {
        guard let parts = URLComponents(string: url), parts.scheme?.lowercased() == "http",
            let host = parts.host, !host.isEmpty
        else { return nil }
        let port = parts.port ?? 80
        var path = parts.percentEncodedPath
        if path.isEmpty { path = "/" }
        if let query = parts.percentEncodedQuery { path += "?" + query }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return Target(origin: Origin(host: host, port: port), path: path, hostHeader: port == 80 ? bracketed : "\(bracketed):\(port)")
    }

    /// Closes every idle connection; later requests fail.
    func shutdown() async {
        closed.store(true, ordering: .relaxed)
        let all = idle.withLock { table in
            defer { table.removeAll() }
            return table.values.flatMap { $0 }
        }
        for connection in all { try? await connection.channel.close() }
    }

    /// Sends `request` and returns the response head and its body.
    ///
    /// A request that finds its reused connection closed by the server before any answer is
    /// sent again on a new connection (the server dropped the idle connection; it never saw
    /// the request). Cancelling the calling task closes the connection.
    func execute(
        _ request: ProviderHTTPRequest,
        target: Target,
        provider: String,
        timeouts: ProviderTimeouts
    ) async throws -> (HTTPResponseHead, HTTP1ResponseBody) {
        var headers = request.headers
        if !headers.contains(name: "host") { headers.add(name: "host", value: target.hostHeader) }
        let hasBody = !request.body.isEmpty || request.method == .POST || request.method == .PUT || request.method == .PATCH
        if hasBody, !headers.contains(name: "content-length") { headers.add(name: "content-length", value: String(request.body.count)) }
        let keepAlive = !headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
        let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: target.path, headers: headers)
        let body = request.body.isEmpty ? nil : ByteBuffer(bytes: request.body)

        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let (connection, reused) = try await self.connection(to: target.origin, provider: provider, timeouts: timeouts)
            let eventLoop = connection.channel.eventLoop
            let promise = eventLoop.makePromise(of: (HTTPResponseHead, HTTP1ResponseBody).self)
            let sent = HTTP1ConnectionHandler.Request(
                promise: promise,
                timeouts: timeouts,
                provider: provider,
                started: .now(),
                reused: reused,
                keepAlive: keepAlive
            )
            if eventLoop.inEventLoop {
                connection.handler.value.send(head: head, body: body, request: sent)
            } else {
                eventLoop.execute { connection.handler.value.send(head: head, body: body, request: sent) }
            }
            do {
                return try await withTaskCancellationHandler {
                    try await promise.futureResult.get()
                } onCancel: {
                    eventLoop.execute { connection.handler.value.fail(CancellationError()) }
                }
            } catch is HTTP1StaleConnection where reused && attempt < 3 {
                continue
            } catch is HTTP1StaleConnection {
                throw ProviderError(.connection, provider: provider, message: "the server closed the connection before answering")
            }
        }
    }

    private func connection(to origin: Origin, provider: String, timeouts: ProviderTimeouts) async throws -> (Connection, Bool) {
        guard !closed.load(ordering: .relaxed) else {
            throw ProviderError(.connection, provider: provider, message: "the HTTP client was shut down")
        }
        let current = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { loops.contains(ObjectIdentifier($0)) ? $0 : nil }
        while let connection = checkout(origin, preferring: current) {
            if connection.channel.isActive { return (connection, true) }
        }
        let eventLoop = current ?? group.next()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeouts.connect))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = HTTP1ConnectionHandler()
                    handler.onIdle = { handler in
                        self?.release(Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop)), to: origin)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            let connection = try await bootstrap.connect(host: origin.host, port: origin.port).flatMapThrowing { channel in
                Connection(
                    channel: channel,
                    handler: NIOLoopBound(try channel.pipeline.syncOperations.handler(type: HTTP1ConnectionHandler.self), eventLoop: channel.eventLoop)
                )
            }.get()
            return (connection, false)
        } catch ChannelError.connectTimeout {
            throw ProviderError(.timeout, provider: provider, message: "connecting took longer than \(timeouts.connect)")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ProviderError(.connection, provider: provider, message: "the connection to \(origin.host):\(origin.port) failed: \(error)")
        }
    }

    /// An idle connection to `origin`, the most recently used first, on `eventLoop` if one is.
    private func checkout(_ origin: Origin, preferring eventLoop: (any EventLoop)?) -> Connection? {
        idle.withLock { table -> Connection? in
            guard let list = table[origin], !list.isEmpty else { return nil }
            var index = list.count - 1
            if let eventLoop, let local = list.lastIndex(where: { $0.channel.eventLoop === eventLoop }) { index = local }
            table[origin]?.swapAt(index, list.count - 1)
            return table[origin]?.removeLast()
        }
    }

    private func release(_ connection: Connection, to origin: Origin) {
        let kept = idle.withLock { table -> Bool in
            guard !closed.load(ordering: .relaxed) else { return false }
            if table[origin, default: []].count >= maxIdlePerOrigin {
                table[origin]?.removeAll { !$0.channel.isActive }
                if table[origin, default: []].count >= maxIdlePerOrigin { return false }
            }
            table[origin, default: []].append(connection)
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }
}
