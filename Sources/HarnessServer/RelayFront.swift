//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import NIOCore

/// The relay's front: sits ahead of the HTTP/1 codec and serves the requests
/// ``GatewayRelay`` relays straight from the connection's bytes, writing their answers as
/// bytes, so they skip the HTTP/1 decoder and encoder and the conversion to HTTP types.
///
/// Every other request whose head ``RelayRequestHead`` reads (another endpoint, a stream, a
/// key the caches do not know yet, a request the upstream did not answer well) is lent to the
/// codec: its bytes, exactly, go on to the HTTP/1 decoder and the full path, and the front
/// holds what comes after it until the codec's response has ended, then goes on. Requests so
/// keep their order, and the decoder never holds part of a request the front would read. At
/// the first bytes the scan does not understand, the front hands everything it holds to the
/// codec and leaves the pipeline: from then on the connection is the codec's, where
/// ``GatewayRelay`` still relays the requests it can.
final class RelayFront: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The relay behind the codec, which relays what the front reads; nil once the front left.
    private var relay: GatewayRelay?
    private let maxBodySize: Int
    private var context: ChannelHandlerContext?
    /// Bytes read and not yet served.
    private var pending: ByteBuffer?
    /// The request being relayed (its bytes go to the codec if the relay gives it up).
    private var inFlight: ByteBuffer?
    /// A request was lent to the codec and its response has not ended yet.
    private var lent = false
    private var readPending = false
    private var quiescePending = false

    init(relay: GatewayRelay, maxBodySize: Int) {
        self.relay = relay
        self.maxBodySize = maxBodySize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        relay?.front = nil
        relay = nil
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard relay != nil else {
            context.fireChannelRead(data)
            return
        }
        if pending == nil {
            pending = bytes
        } else {
            pending?.writeBuffer(&bytes)
        }
        serve(context: context)
    }

    /// Relays or lends the requests at the start of `pending`, one at a time; steps aside at
    /// bytes it does not understand.
    private func serve(context: ChannelHandlerContext) {
        while inFlight == nil, !lent, let relay, let bytes = pending {
            let scan = bytes.withUnsafeReadableBytes { RelayRequestHead.scan($0) }
            switch scan {
            case .incomplete:
                return
            case .unsupported:
                stepAside(context: context)
                return
            case .head(let head):
                guard head.contentLength <= maxBodySize else {
                    // The codec's path answers 413.
                    stepAside(context: context)
                    return
                }
                let total = head.length + head.contentLength
                guard bytes.readableBytes >= total else { return }
                let start = bytes.readerIndex
                guard let request = bytes.getSlice(at: start, length: total) else { return }
                if bytes.readableBytes == total {
                    pending = nil
                } else {
                    pending?.moveReaderIndex(forwardBy: total)
                }
                if head.isChat, let body = bytes.getSlice(at: start + head.length, length: head.contentLength) {
                    let authorization = head.authorization.flatMap { bytes.getString(at: start + $0.lowerBound, length: $0.count) }
                    let xAPIKey = head.xAPIKey.flatMap { bytes.getString(at: start + $0.lowerBound, length: $0.count) }
                    if relay.startFromFront(body: body, authorization: authorization, xAPIKey: xAPIKey) {
                        inFlight = request
                        continue
                    }
                }
                lend(request, context: context)
            }
        }
    }

    /// Hands one whole request to the codec; what follows it waits for its response.
    private func lend(_ request: ByteBuffer, context: ChannelHandlerContext) {
        lent = true
        context.fireChannelRead(wrapInboundOut(request))
        context.fireChannelReadComplete()
    }

    /// Hands what is pending (the request in flight first) to the codec and leaves the
    /// pipeline.
    private func stepAside(context: ChannelHandlerContext) {
        var bytes = inFlight
        inFlight = nil
        if var rest = pending {
            if bytes == nil { bytes = rest } else { bytes?.writeBuffer(&rest) }
        }
        pending = nil
        relay?.front = nil
        relay = nil
        if let bytes { context.fireChannelRead(wrapInboundOut(bytes)) }
        context.fireChannelReadComplete()
        if quiescePending {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        if readPending {
            readPending = false
            context.read()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    // MARK: Called by the relay

    /// Writes the answer to the request in flight.
    func answer(_ response: ByteBuffer) {
        guard let context else { return }
        inFlight = nil
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(response)), promise: nil)
    }

    /// Writes part of the answer to the request in flight (a stream's events); the last part
    /// goes with ``answer(_:)``.
    func write(_ part: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(.byteBuffer(part)), promise: nil)
    }

    /// Serves what came after the answered request (the relay is idle again).
    func resume() {
        guard let context, inFlight == nil, !lent else { return }
        serve(context: context)
        guard inFlight == nil, !lent, relay != nil else { return }
        if quiescePending, pending == nil {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        if readPending {
            readPending = false
            context.read()
        }
    }

    /// The relay gave up the request in flight before answering: it is lent to the codec.
    func giveUp() {
        guard let context, let request = inFlight else { return }
        inFlight = nil
        lend(request, context: context)
    }

    /// The codec has answered everything it was given: the front goes on.
    func codecIdle() {
        guard lent else { return }
        lent = false
        resume()
    }

    // MARK: Events

    func channelReadComplete(context: ChannelHandlerContext) {
        // While the front serves the connection nothing has gone past it, so there is nothing
        // for the handlers behind it to complete (none of them times idleness).
        guard relay == nil else { return }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The connection state handler behind the codec would close a connection it thinks
        // idle; a relay in progress finishes first.
        if event is ChannelShouldQuiesceEvent, relay != nil, inFlight != nil || pending != nil {
            // (A lent request is the connection state handler's to wait for.)
            quiescePending = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if inFlight != nil || lent, (pending?.readableBytes ?? 0) > GatewayRelay.maxHeldBytes {
            readPending = true
        } else {
            context.read()
        }
    }
}
