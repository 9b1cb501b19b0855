//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1

/// The body of a response read by ``HTTP1UpstreamClient``: chunks as they arrive, with
/// backpressure (the socket is not read while the consumer is behind).
typealias HTTP1ResponseBody = NIOThrowingAsyncSequenceProducer<
    ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, HTTP1BodyDelegate
>

/// Ends a request early: a deadline passed, the connection broke, or the consumer went away.
struct HTTP1StaleConnection: Error {}

/// One keep-alive HTTP/1.1 connection to a provider, one request at a time.
///
/// Everything here runs on the channel's event loop. A request is written head, body and end
/// in one flush; the response head completes the request's promise together with the body
/// sequence; body chunks are yielded to it and reading pauses while it is full. The request's
/// deadlines (first byte, idle between chunks, total) are one timer, re-armed only when it
/// fires. When the response ends and both sides allow keep-alive, the connection goes back to
/// its pool; on any failure it is closed and the request fails with a ``ProviderError``.
final class HTTP1ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    struct Request: Sendable {
        var promise: EventLoopPromise<(HTTPResponseHead, HTTP1ResponseBody)>
        var timeouts: ProviderTimeouts
        var provider: String
        var started: NIODeadline
        /// The connection served a request before this one: a close before any response
        /// byte means the server dropped an idle connection, and the request may be retried.
        var reused: Bool
        var keepAlive: Bool
    }

    private enum State {
        case idle
        case awaitingHead(Request)
        case streaming(Request, HTTP1ResponseBody.Source)
        case closed
    }

    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// Reading is paused while the body's consumer is behind; a read asked for meanwhile waits.
    private var paused = false
    private var readPending = false
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?
    /// Counts requests, so a late signal from a finished request's body is ignored.
    private var generation = 0
    private var served = 0
    /// Called on the event loop when a response has ended and the connection can be reused.
    var onIdle: ((HTTP1ConnectionHandler) -> Void)?

    static let idleTimeout = TimeAmount.seconds(60)

    var isIdle: Bool {
        if case .idle = state, context?.channel.isActive == true { return true }
        return false
    }

    var requestsServed: Int { served }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        onIdle = nil
    }

    // MARK: Sending

    /// Writes one request in a single flush and arms its deadlines.
    func send(head: HTTPRequestHead, body: ByteBuffer?, request: Request) {
        guard let context, case .idle = state, context.channel.isActive else {
            request.promise.fail(HTTP1StaleConnection())
            return
        }
        timer?.cancel()
        generation += 1
        state = .awaitingHead(request)
        paused = false
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        armTimer(now: .now())
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .awaitingHead(let request) = state else {
                fail(ProviderError(.invalidResponse, provider: "http", message: "the server sent a response nobody asked for"))
                return
            }
            // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
            if head.status.code >= 100, head.status.code < 200, head.status != .switchingProtocols { return }
            lastActivity = .now()
            var accepted = request
            accepted.keepAlive = request.keepAlive && head.isKeepAlive
            let body = HTTP1ResponseBody.makeSequence(
                elementType: ByteBuffer.self,
                failureType: (any Error).self,
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16),
                finishOnDeinit: false,
                delegate: HTTP1BodyDelegate(handler: NIOLoopBound(self, eventLoop: context.eventLoop), generation: generation)
            )
            state = .streaming(accepted, body.source)
            accepted.promise.succeed((head, body.sequence))
        case .body(let buffer):
            guard case .streaming(_, let source) = state else { return }
            lastActivity = .now()
            switch source.yield(buffer) {
            case .produceMore: break
            case .stopProducing: paused = true
            case .dropped: break  // the consumer is gone; didTerminate closes the connection
            }
        case .end:
            guard case .streaming(let request, let source) = state else { return }
            timer?.cancel()
            timer = nil
            served += 1
            paused = false
            if request.keepAlive {
                // Back in the pool before the consumer learns the body ended, so that its
                // next request finds this connection.
                state = .idle
                armIdleTimer()
                onIdle?(self)
                source.finish()
            } else {
                state = .closed
                source.finish()
                context.close(promise: nil)
            }
        }
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .awaitingHead(let request):
            // Closed before any answer: on a reused connection the server most likely dropped
            // it while idle, and the request can go again on a new one.
            let error: any Error =
                request.reused
                ? HTTP1StaleConnection()
                : ProviderError(.connection, provider: request.provider, message: "the server closed the connection before answering")
            fail(error, close: false)
        case .streaming(let request, _):
            fail(
                ProviderError(.connection, provider: request.provider, message: "the server closed the connection before the response was complete"),
                close: false
            )
        case .idle, .closed:
            state = .closed
        }
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let provider: String
        switch state {
        case .awaitingHead(let request), .streaming(let request, _): provider = request.provider
        case .idle, .closed: provider = "http"
        }
        fail(ProviderError(.connection, provider: provider, message: "the connection failed: \(error)"))
    }

    // MARK: Signals from the body's consumer (on the event loop)

    func produceMore(generation: Int) {
        guard generation == self.generation, paused else { return }
        paused = false
        lastActivity = .now()
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func bodyTerminated(generation: Int) {
        // The consumer stopped before the end (cancelled, or dropped the body): the rest of
        // this response can only be discarded with the connection.
        guard generation == self.generation, case .streaming = state else { return }
        state = .closed
        timer?.cancel()
        timer = nil
        context?.close(promise: nil)
    }

    /// Ends the request in flight with `error` and closes the connection.
    func fail(_ error: any Error, close: Bool = true) {
        let previous = state
        state = .closed
        timer?.cancel()
        timer = nil
        switch previous {
        case .awaitingHead(let request): request.promise.fail(error)
        case .streaming(_, let source): source.finish(error)
        case .idle, .closed: break
        }
        if close { context?.close(promise: nil) }
    }

    // MARK: Deadlines

    private func armTimer(now: NIODeadline) {
        let deadline: NIODeadline
        let total: NIODeadline
        switch state {
        case .awaitingHead(let request):
            total = request.started + TimeAmount(request.timeouts.total)
            deadline = min(total, request.started + TimeAmount(request.timeouts.firstByte))
        case .streaming(let request, _):
            total = request.started + TimeAmount(request.timeouts.total)
            deadline = paused ? total : min(total, lastActivity + TimeAmount(request.timeouts.idle))
        case .idle, .closed:
            return
        }
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in self?.timerFired() }
    }

    private func timerFired() {
        timer = nil
        let now = NIODeadline.now()
        switch state {
        case .awaitingHead(let request):
            let total = request.started + TimeAmount(request.timeouts.total)
            if now >= total {
                fail(ProviderError(.timeout, provider: request.provider, message: "the request took longer than its total timeout of \(request.timeouts.total)"))
            } else if now >= request.started + TimeAmount(request.timeouts.firstByte) {
                fail(ProviderError(.timeout, provider: request.provider, message: "no response arrived within the first-byte timeout of \(request.timeouts.firstByte)"))
            } else {
                armTimer(now: now)
            }
        case .streaming(let request, _):
            if now >= request.started + TimeAmount(request.timeouts.total) {
                fail(ProviderError(.timeout, provider: request.provider, message: "the request took longer than its total timeout of \(request.timeouts.total)"))
            } else if !paused, now >= lastActivity + TimeAmount(request.timeouts.idle) {
                fail(ProviderError(.timeout, provider: request.provider, message: "no data arrived for \(request.timeouts.idle) in the middle of the response"))
            } else {
                armTimer(now: now)
            }
        case .idle:
            // Unused for the whole idle timeout: close rather than keep a socket the server
            // will drop anyway.
            if now >= lastActivity + Self.idleTimeout {
                state = .closed
                context?.close(promise: nil)
            } else {
                armIdleTimer()
            }
        case .closed:
            break
        }
    }

    private func armIdleTimer() {
        lastActivity = .now()
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastActivity + Self.idleTimeout) { [weak self] in self?.timerFired() }
    }
}

/// Tells the connection when its body's consumer wants more, or has gone.
struct HTTP1BodyDelegate: NIOAsyncSequenceProducerDelegate {
    let handler: NIOLoopBound<HTTP1ConnectionHandler>
    let generation: Int

    func produceMore() {
        let handler = self.handler
        let generation = self.generation
        handler.eventLoop.execute { handler.value.produceMore(generation: generation) }
    }

    func didTerminate() {
        let handler = self.handler
        let generation = self.generation
        handler.eventLoop.execute { handler.value.bodyTerminated(generation: generation) }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = nanos.overflow ? .nanoseconds(.max) : .nanoseconds(nanos.partialValue + attoseconds / 1_000_000_000)
    }
}
