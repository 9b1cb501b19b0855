//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import CoreMetrics
import Foundation
import HTTPTypes
import Harness
import HarnessConfig
import HarnessCore
import HarnessProviders
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOPosix
import Synchronization

/// Serves the common case of the gateway on the connection's event loop: an OpenAI-format
/// chat request, streamed or not, for a model whose one route is an OpenAI-compatible server
/// (``RelayRoute``), from a client whose key the caches already admit. A stream's events are
/// relayed as they arrive (``RelayStream``) and resumed through the router if they break.
///
/// The client's JSON goes upstream with only `model` renamed, on an upstream connection that
/// belongs to this client connection and lives on the same event loop, so a request costs no
/// thread hop and no task; the answer comes back with the gateway's `id` and model name, and
/// is booked (usage ledger, spend, token bucket, metrics, breaker) like any other.
///
/// Anything else goes to the full path (the Hummingbird routes) untouched: other endpoints,
/// keys not in the cache, open breakers, dead routes, malformed JSON. So does a request the upstream did not answer with a good
/// 200 (an error status, a broken or invalid answer, a refused connection): nothing was sent
/// to the client yet, and the full path asks again with retries and answers errors in the
/// client's format. The relay answers only a timeout itself, as the full path would.
///
/// Requests handed to the full path keep their order: while one is owed a response, later
/// requests on the connection go the same way, and parts arriving while the relay waits for
/// the upstream are held and replayed after it.
///
/// The relay sits behind the HTTP/1 codec and puts a ``RelayFront`` ahead of it, which reads
/// most requests straight from the connection's bytes and writes their answers as bytes
/// (``RelayRequestHead``); requests the front lends to the codec, or all of them once it has
/// stepped aside, reach this handler as HTTP parts. Upstream, each request goes as one buffer
/// of bytes and its response is read by ``RelayResponseReader``: no HTTP handlers on either
/// leg of a relayed request.
final class GatewayRelay: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Where a relayed request came from, and so where its answer goes.
    enum Origin {
        /// Read by ``RelayFront`` from the connection's bytes.
        case front(RelayFront)
        /// Read by the HTTP/1 codec: its head and body, for the full path if the relay gives up.
        case codec(HTTPRequest, ByteBuffer)
    }

    /// One relayed request (a class: the state holds it without copying, and its answer grows
    /// in place).
    final class Exchange {
        let origin: Origin
        let route: RelayRoute
        let principal: Principal
        let requestID: String
        let started: ContinuousClock.Instant
        /// When the request went upstream: the deadlines count from here.
        let sent: NIODeadline
        var status: Int = 0
        var keepAlive = true
        var timer: Scheduled<Void>?
        /// A streamed request's events (nil for a whole answer).
        var stream: RelayStream?

        init(
            origin: Origin, route: RelayRoute, principal: Principal, requestID: String,
            started: ContinuousClock.Instant, sent: NIODeadline
        ) {
            self.origin = origin
            self.route = route
            self.principal = principal
            self.requestID = requestID
            self.started = started
            self.sent = sent
        }
    }

    enum State {
        /// Between requests.
        case idle
        /// A relay candidate whose body is arriving.
        case collecting(HTTPRequest, ByteBuffer)
        /// A request handed to the full path; its remaining parts follow it there.
        case passing
        /// Waiting for the upstream's answer.
        case relaying(Exchange)
    }

    let gateway: Gateway
    let routes: [String: RelayRoute]
    let maxBodySize: Int

    private(set) var state = State.idle
    private(set) var context: ChannelHandlerContext?
    /// Requests handed to the full path whose response has not ended yet.
    private var owed = 0
    /// Parts that arrived while relaying (a pipelining client), replayed afterwards.
    private var held: [HTTPRequestPart] = []
    private var heldBytes = 0
    private var readPending = false
    private var quiescePending = false
    private(set) var upstream: (any Channel)?
    private var upstreamOrigin = ""
    /// Counts exchanges, so that a late signal from an earlier upstream is ignored.
    private(set) var generation = 0
    /// The front ahead of the codec, while it serves the connection.
    var front: RelayFront?
    /// The next request from the codec goes to the full path (the front gave it up).
    private var passNext = false
    /// The key this connection presented last, and its hash: a client sends the same key on
    /// each request, which is then hashed once per connection. (The key stays in memory only
    /// as long as the connection, as its requests' bytes do.)
    private var presented: (secret: String?, hash: String?) = (nil, nil)

    /// Held parts beyond this stop reading from the client until the relay is done.
    static let maxHeldBytes = 1 << 20

    init(gateway: Gateway, routes: [String: RelayRoute]) {
        self.gateway = gateway
        self.routes = routes
        self.maxBodySize = gateway.configuration.server.maxBodySize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The front goes ahead of the codec (the response encoder is its first handler).
        if let encoder = try? context.pipeline.syncOperations.handler(type: HTTPResponseEncoder.self) {
            let front = RelayFront(relay: self, maxBodySize: maxBodySize)
            if (try? context.pipeline.syncOperations.addHandler(front, position: .before(encoder))) != nil {
                self.front = front
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeUpstream()
        front = nil
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .relaying = state {
            hold(part)
        } else if !held.isEmpty {
            hold(part)
        } else {
            process(part, context: context)
        }
    }

    private func hold(_ part: HTTPRequestPart) {
        if case .body(let b) = part { heldBytes += b.readableBytes }
        held.append(part)
    }

    private func process(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .passing:
            context.fireChannelRead(wrapInboundOut(part))
            if case .end = part {
                state = .idle
                codecMayBeIdle()  // the full path may have answered before the request's end
            }
        case .idle:
            guard case .head(let head) = part else {
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            if owed == 0, !passNext, isCandidate(head) {
                state = .collecting(head, context.channel.allocator.buffer(capacity: 0))
            } else {
                passNext = false
                pass(head, context: context)
            }
        case .collecting(let head, var body):
            switch part {
            case .head:
                context.fireChannelRead(wrapInboundOut(part))  // not HTTP; the decoder prevents it
            case .body(var chunk):
                if body.readableBytes + chunk.readableBytes > maxBodySize {
                    // The full path answers 413; it gets everything read so far.
                    pass(head, context: context)
                    if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
                    context.fireChannelRead(wrapInboundOut(.body(chunk)))
                } else {
                    state = .idle  // keeps `body` uniquely referenced while it grows
                    if body.readableBytes == 0 { body = chunk } else { body.writeBuffer(&chunk) }
                    state = .collecting(head, body)
                }
            case .end:
                state = .idle
                let headers = head.headerFields
                let started = start(
                    body: body, authorization: headers[.authorization], xAPIKey: headers[.xAPIKey], origin: .codec(head, body), context: context
                )
                if !started { passWhole(head, body: body, context: context) }
            }
        case .relaying:
            hold(part)
        }
    }

    /// Hands a request to the full path; its later parts follow.
    private func pass(_ head: HTTPRequest, context: ChannelHandlerContext) {
        owed += 1
        state = .passing
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    private func passWhole(_ head: HTTPRequest, body: ByteBuffer, context: ChannelHandlerContext) {
        pass(head, context: context)
        if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
        state = .idle
        context.fireChannelRead(wrapInboundOut(.end(nil)))
    }

    private func isCandidate(_ head: HTTPRequest) -> Bool {
        guard head.method == .post, let path = head.path else { return false }
        guard path == "/v1/chat/completions" || path.hasPrefix("/v1/chat/completions?") else { return false }
        if let connection = head.headerFields[.connection], connection.lowercased().contains("close") { return false }
        // A client waiting for 100 Continue before its body is the full path's to answer.
        if head.headerFields[.expect] != nil { return false }
        return true
    }

    // MARK: Starting a relay

    /// Starts relaying a request ``RelayFront`` read, or returns false for it to step aside.
    func startFromFront(body: ByteBuffer, authorization: String?, xAPIKey: String?) -> Bool {
        guard let front, let context, case .idle = state, owed == 0, held.isEmpty else { return false }
        return start(body: body, authorization: authorization, xAPIKey: xAPIKey, origin: .front(front), context: context)
    }

    /// Starts relaying the request, or returns false for the full path to serve it.
    private func start(body: ByteBuffer, authorization: String?, xAPIKey: String?, origin: Origin, context: ChannelHandlerContext) -> Bool {
        let found = body.withUnsafeReadableBytes { raw in raw.withMemoryRebound(to: UInt8.self) { RelayJSON.request($0) } }
        // Without messages the full path names the field.
        guard let found, found.hasMessages, let route = routes[found.model] else { return false }
        if let breaker = route.breaker, breaker.state != .closed { return false }
        if let health = gateway.health, health.status[route.routeName]?.healthy == false { return false }
        let secret = KeyAuthenticator.presentedKey(authorization: authorization, xAPIKey: xAPIKey)
        if secret != presented.secret { presented = (secret, secret.map(KeyAuthenticator.hash)) }
        guard let principal = gateway.authenticator.cachedPrincipal(hash: presented.hash) else { return false }

        var edits: [(Range<Int>, RelayJSON.Edit)] = [(found.modelRange, .string(route.upstreamModel))]
        if found.stream, !found.includeUsage {
            // The upstream is asked for usage (the key's budget needs it); the client gets it
            // only if it asked, as from the full path.
            if let options = found.streamOptionsRange {
                edits.append((options, .raw(#"{"include_usage":true}"#)))
            } else {
                edits.append((found.memberInsertion..<found.memberInsertion, .raw(#""stream_options":{"include_usage":true},"#)))
            }
        }
        var json: [UInt8] = []
        json.reserveCapacity(body.readableBytes + route.upstreamModel.utf8.count + 48)
        body.withUnsafeReadableBytes { raw in
            raw.withMemoryRebound(to: UInt8.self) { RelayJSON.editing($0, edits, into: &json) }
        }
        // The whole request in one buffer: the route's head (its headers were checked when it
        // was built), the length, the body.
        let head = found.stream ? route.streamRequestHead : route.requestHead
        var request = context.channel.allocator.buffer(capacity: head.count + json.count + 24)
        request.writeBytes(head)
        request.writeString(String(json.count))
        request.writeStaticString("\r\n\r\n")
        request.writeBytes(json)

        generation += 1
        let now = NIODeadline.now()
        let exchange = Exchange(
            origin: origin, route: route, principal: principal, requestID: "chatcmpl-" + Gateway.newRequestID(),
            started: .now, sent: now
        )
        if found.stream {
            exchange.stream = RelayStream(
                id: exchange.requestID, model: route.model.name, includeUsage: found.includeUsage, provider: route.model.provider,
                routeName: route.routeName, requestBody: body
            )
        }
        arm(exchange, deadline: min(now + Self.timeAmount(route.timeouts.firstByte), now + Self.timeAmount(route.timeouts.total)), on: context.eventLoop)
        state = .relaying(exchange)
        send(request, route: route, context: context)
        return true
    }

    private func send(_ request: ByteBuffer, route: RelayRoute, context: ChannelHandlerContext) {
        let origin = "\(route.host):\(route.port)"
        if let upstream, upstream.isActive, upstreamOrigin == origin {
            upstream.writeAndFlush(request, promise: nil)
            return
        }
        closeUpstream()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let generation = self.generation
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(Self.timeAmount(route.timeouts.connect))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RelayUpstreamHandler(relay: bound))
                }
            }
            .connect(host: route.host, port: route.port)
            .assumeIsolated()
            .whenComplete { result in
                let relay = bound.value
                switch result {
                case .success(let channel):
                    guard relay.generation == generation, case .relaying = relay.state, relay.context != nil else {
                        channel.close(promise: nil)
                        return
                    }
                    relay.upstream = channel
                    relay.upstreamOrigin = origin
                    channel.writeAndFlush(request, promise: nil)
                case .failure:
                    relay.replay(generation: generation)
                }
            }
    }

    // MARK: The upstream's answer

    /// What the relay wants of an upstream's response body.
    enum BodyWanted {
        /// Nothing: the connection is done.
        case none
        /// The whole body at the end.
        case whole
        /// Each part as it arrives (a stream).
        case parts
    }

    /// The head of the upstream's (final) response: whether the relay wants the rest (not if
    /// it is not relaying, or for an error status the full path asks again).
    func upstreamHead(_ head: RelayResponseReader.Head, from channel: any Channel) -> BodyWanted {
        guard channel === upstream, case .relaying(let exchange) = state else { return .none }
        // An error status is asked again by the full path, with retries, and answered in the
        // client's format; so is a stream answered with something else than events.
        guard head.status == 200, exchange.stream == nil || head.eventStream else {
            replay(generation: generation)
            return .none
        }
        // The answer has begun: from now on only the total timeout applies (the timer, armed
        // for the first byte, moves on to it when it fires).
        exchange.status = 200
        exchange.keepAlive = head.keepAlive
        return exchange.stream == nil ? .whole : .parts
    }

    /// Schedules the exchange's timeout check.
    func arm(_ exchange: Exchange, deadline: NIODeadline, on eventLoop: any EventLoop) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let generation = self.generation
        exchange.timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            bound.value.timedOut(generation: generation)
        }
    }

    /// The upstream's whole response body.
    func upstreamEnd(body: ByteBuffer, from channel: any Channel) {
        guard channel === upstream, case .relaying(let exchange) = state, exchange.status == 200, let context else { return }
        exchange.timer?.cancel()
        if !exchange.keepAlive { closeUpstream() }
        if let stream = exchange.stream {
            streamEnded(stream, rest: body, exchange: exchange)
            return
        }
        guard let out = Self.rewrite(body, id: exchange.requestID, model: exchange.route.model.name) else {
            // Not a chat completion: the full path reports what is wrong with it.
            replay(generation: generation)
            return
        }
        let usage = out.usage
        // Booked before it is answered: a client that has its answer finds it in the ledger,
        // the spend and the metrics.
        exchange.route.breaker?.recordSuccess(probe: false)
        gateway.book(
            principal: exchange.principal, model: exchange.route.model, usage: usage, status: "ok", started: exchange.started,
            requestID: exchange.requestID
        )
        gateway.metrics.request(endpoint: "chat_completions", status: 200, duration: .now - exchange.started)
        gateway.relayed.add(1, ordering: .relaxed)
        if case .front = exchange.origin { gateway.relayedFromBytes.add(1, ordering: .relaxed) }
        gateway.metrics.relay("served")
        var buffer = context.channel.allocator.buffer(capacity: out.bytes.count)
        buffer.writeBytes(out.bytes)
        respond(.ok, body: buffer, exchange: exchange, context: context)
        finish(exchange)
    }

    /// The upstream's chat completion with the gateway's `id` and model name, and its usage;
    /// nil when it is not a JSON object with a `choices` array.
    static func rewrite(_ response: ByteBuffer, id: String, model: String) -> (bytes: [UInt8], usage: Usage?)? {
        response.withUnsafeReadableBytes { raw in
            raw.withMemoryRebound(to: UInt8.self) { bytes -> (bytes: [UInt8], usage: Usage?)? in
                guard let answer = RelayJSON.answer(bytes), answer.hasChoices else { return nil }
                var out: [UInt8] = []
                out.reserveCapacity(bytes.count + id.utf8.count + model.utf8.count)
                if let idRange = answer.idRange, let modelRange = answer.modelRange {
                    RelayJSON.replacing(bytes, [(idRange, id), (modelRange, model)], into: &out)
                } else {
                    // Rare (a server that omits them): rebuilt with them added.
                    guard case .object(var fields)? = try? JSONValue(parsingBytes: bytes, maxDepth: 512) else { return nil }
                    fields["id"] = .string(id)
                    fields["model"] = .string(model)
                    JSONValue.object(fields).writeCanonical(into: &out)
                }
                return (out, answer.usage)
            }
        }
    }

    func upstreamClosed(_ channel: any Channel) {
        guard channel === upstream else { return }
        upstream = nil
        guard case .relaying(let exchange) = state else { return }
        if exchange.stream != nil {
            let error = ProviderError(.connection, provider: exchange.route.model.provider, message: "the upstream closed the connection before the stream ended")
            streamBroke(error, exchange: exchange)
        } else {
            replay(generation: generation)
        }
    }

    /// No answer within the route's first-byte (or total) timeout: answered here, as the
    /// full path would after the same wait, rather than asked again.
    func timedOut(generation: Int) {
        guard generation == self.generation, case .relaying(let exchange) = state, let context else { return }
        let timeouts = exchange.route.timeouts
        let total = exchange.sent + Self.timeAmount(timeouts.total)
        if exchange.status == 200, NIODeadline.now() < total {
            // The head came in time; the rest has until the total timeout.
            arm(exchange, deadline: total, on: context.eventLoop)
            return
        }
        let timeout = ProviderError(
            .timeout, provider: exchange.route.model.provider,
            message: exchange.status == 0 && timeouts.firstByte < timeouts.total
                ? "no response arrived within the first-byte timeout of \(timeouts.firstByte)"
                : "the request took longer than its total timeout of \(timeouts.total)"
        )
        if let stream = exchange.stream, stream.headWritten {
            // Events went out: the stream is resumed, as the router resumes one that stalls.
            streamBroke(timeout, exchange: exchange)
            return
        }
        closeUpstream()
        let error = GatewayError.from(timeout)
        gateway.metrics.error(code: error.code)
        exchange.route.breaker?.recordFailure(probe: false)
        gateway.book(
            principal: exchange.principal, model: exchange.route.model, usage: nil, status: error.code, started: exchange.started,
            requestID: exchange.requestID
        )
        gateway.metrics.request(endpoint: "chat_completions", status: error.kind.status, duration: .now - exchange.started)
        var buffer = context.channel.allocator.buffer(capacity: 256)
        buffer.writeBytes(error.openAIBody)
        respond(HTTPResponse.Status(code: error.kind.status), body: buffer, exchange: exchange, context: context)
        finish(exchange)
    }

    private func respond(_ status: HTTPResponse.Status, body: ByteBuffer, exchange: Exchange, context: ChannelHandlerContext) {
        let requestID = exchange.requestID
        if case .front(let front) = exchange.origin {
            front.answer(Self.response(status, body: body, requestID: requestID, allocator: context.channel.allocator))
            return
        }
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.readableBytes)
        fields[.xRequestID] = requestID
        fields[.requestID] = requestID
        fields[.date] = HTTPDate.now
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Gives the relayed request to the full path (nothing was sent to the client).
    func replay(generation: Int) {
        guard generation == self.generation, case .relaying(let exchange) = state, let context else { return }
        exchange.timer?.cancel()
        // The upstream may still be answering; its connection cannot be reused.
        closeUpstream()
        if case .key(let key) = exchange.principal { gateway.authenticator.refundRequest(key) }
        gateway.relayReplays.add(1, ordering: .relaxed)
        gateway.metrics.relay("replayed")
        state = .idle
        switch exchange.origin {
        case .front(let front):
            // The request's bytes come back through the codec; this relay must not take it again.
            passNext = true
            front.giveUp()
        case .codec(let head, let body):
            passWhole(head, body: body, context: context)
            drain(context: context)
        }
    }

    /// Back to idle after a relayed response: what arrived meanwhile is processed now.
    func finish(_ exchange: Exchange) {
        state = .idle
        switch exchange.origin {
        case .front(let front):
            front.resume()
        case .codec:
            guard let context else { return }
            drain(context: context)
            codecMayBeIdle()
        }
    }

    /// Tells the front when everything the codec was given has been answered.
    private func codecMayBeIdle() {
        guard let front, owed == 0, held.isEmpty, case .idle = state else { return }
        front.codecIdle()
    }

    /// A whole HTTP/1.1 response, as the front writes it: the same head fields the codec's
    /// path writes for a relayed answer.
    static func response(_ status: HTTPResponse.Status, body: ByteBuffer, requestID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = body
        var out = allocator.buffer(capacity: body.readableBytes + 200 + 2 * requestID.utf8.count)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\ncontent-type: application/json\r\ncontent-length: ")
        out.writeString(String(body.readableBytes))
        out.writeStaticString("\r\nx-request-id: ")
        out.writeString(requestID)
        out.writeStaticString("\r\nrequest-id: ")
        out.writeString(requestID)
        out.writeStaticString("\r\ndate: ")
        out.writeString(HTTPDate.now)
        out.writeStaticString("\r\n\r\n")
        out.writeBuffer(&body)
        return out
    }

    /// Processes held parts; called outside a read from the client, it ends with a read
    /// complete, which is when the full path's channel hands what it was given to the server.
    private func drain(context: ChannelHandlerContext) {
        while !held.isEmpty {
            if case .relaying = state { break }
            let part = held.removeFirst()
            if case .body(let b) = part { heldBytes -= b.readableBytes }
            process(part, context: context)
        }
        context.fireChannelReadComplete()
        if held.isEmpty { heldBytes = 0 }
        if case .relaying = state { return }
        if quiescePending, held.isEmpty {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        if readPending, heldBytes <= Self.maxHeldBytes {
            readPending = false
            context.read()
        }
    }

    /// Closes the upstream connection. Taken out first: closing on the event loop runs the
    /// upstream's `channelInactive` at once, which must not find it current.
    func closeUpstream() {
        let channel = upstream
        upstream = nil
        channel?.close(promise: nil)
    }

    // MARK: Connection events

    func channelInactive(context: ChannelHandlerContext) {
        if case .relaying(let exchange) = state {
            // The client left; the upstream request is abandoned with its connection (or the
            // router's continuation is cancelled, which cancels its upstream request).
            exchange.timer?.cancel()
            if let stream = exchange.stream {
                stream.continuation?.cancel()
                if stream.headWritten { gateway.metrics.streamsInFlight.decrement(by: 1) }
            }
            gateway.book(
                principal: exchange.principal, model: exchange.route.model, usage: nil, status: "client_closed",
                started: exchange.started, requestID: exchange.requestID
            )
            state = .idle
            generation += 1
        }
        closeUpstream()
        context.fireChannelInactive()
    }

    /// Whether the client's connection takes more writes now.
    var clientWritable: Bool { context?.channel.isWritable ?? true }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The upstream's reads wait while the client cannot take more.
        if context.channel.isWritable { upstream?.read() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // The connection state handler would close a connection it thinks idle; a relay in
            // progress finishes first.
            switch state {
            case .relaying, .collecting:
                quiescePending = true
                return
            case .idle, .passing:
                if !held.isEmpty {
                    quiescePending = true
                    return
                }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the full path's responses pass here; the relay writes from its own context.
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        owed -= 1
        context.write(data, promise: promise)
        codecMayBeIdle()
    }

    func read(context: ChannelHandlerContext) {
        if heldBytes > Self.maxHeldBytes {
            readPending = true
        } else {
            context.read()
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return nanos.overflow ? .nanoseconds(.max) : .nanoseconds(nanos.partialValue + attoseconds / 1_000_000_000)
    }
}

/// The client side of a relay's upstream connection: reads the response from its bytes
/// (``RelayResponseReader``) and hands it to the relay. The relay writes each request as one
/// buffer of bytes, so the connection has no HTTP handlers at all.
final class RelayUpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    let relay: NIOLoopBound<GatewayRelay>
    private var reader = RelayResponseReader()
    private var wanted = GatewayRelay.BodyWanted.whole

    init(relay: NIOLoopBound<GatewayRelay>) {
        self.relay = relay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.append(unwrapInboundIn(data))
        do {
            while true {
                switch try reader.read() {
                case .needMore:
                    if wanted == .parts, let part = reader.takeBody(), !relay.value.upstreamBody(part, from: context.channel) {
                        wanted = .none
                        context.close(promise: nil)
                        return
                    }
                    if reader.heldBytes > ProviderHTTPClient.maxBodyBytes { context.close(promise: nil) }
                    return
                case .head(let head):
                    // Bytes nobody asked for, or an answer the relay gave up: the connection is done.
                    wanted = relay.value.upstreamHead(head, from: context.channel)
                    guard wanted != .none else {
                        context.close(promise: nil)
                        return
                    }
                case .done(let body):
                    let reusable = !reader.hasExtraBytes
                    reader = RelayResponseReader()
                    wanted = .whole
                    relay.value.upstreamEnd(body: body, from: context.channel)
                    if !reusable { context.close(promise: nil) }
                    return
                }
            }
        } catch {
            // Not a response the relay reads: the relay hears of it as a closed connection.
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if wanted == .parts { relay.value.upstreamReadComplete(from: context.channel) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body that the end of the connection frames is complete now.
        if wanted != .none, let body = reader.readEndOfConnection() {
            relay.value.upstreamEnd(body: body, from: context.channel)
        }
        relay.value.upstreamClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Reads from the upstream only while the client takes what the relay writes (a stream
    /// to a slow client); the relay asks again when the client can take more.
    func read(context: ChannelHandlerContext) {
        let relay = relay.value
        if relay.clientWritable {
            context.read()
        } else {
            relay.gateway.relayReadsHeld.add(1, ordering: .relaxed)
        }
    }
}
