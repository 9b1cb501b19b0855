//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import CoreMetrics
import Harness
import HarnessCore
import HarnessProviders
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Relayed streams (``RelayStream``): the upstream's events are written to the client as each
/// upstream read completes; a stream that ends within the reads before the first write goes
/// out whole, with a `Content-Length`, as from the full path.
extension GatewayRelay {
    /// More of a stream's body; false when the relay no longer wants it (the stream broke).
    func upstreamBody(_ part: ByteBuffer, from channel: any Channel) -> Bool {
        guard channel === upstream, case .relaying(let exchange) = state, let stream = exchange.stream else { return false }
        do {
            try stream.feed(part)
            return true
        } catch {
            streamBroke(error, exchange: exchange)
            return false
        }
    }

    /// The upstream's read is complete: the events it brought go to the client in one write.
    func upstreamReadComplete(from channel: any Channel) {
        guard channel === upstream, case .relaying(let exchange) = state, let stream = exchange.stream, stream.hasEvents, !stream.out.isEmpty else {
            return
        }
        writeEvents(stream, exchange: exchange)
    }

    /// The upstream's stream is complete: booked, then its last events and the end written.
    func streamEnded(_ stream: RelayStream, rest: ByteBuffer, exchange: Exchange) {
        do {
            if rest.readableBytes > 0 { try stream.feed(rest) }
            try stream.end()
        } catch {
            streamBroke(error, exchange: exchange)
            return
        }
        exchange.route.breaker?.recordSuccess(probe: false)
        gateway.book(
            principal: exchange.principal, model: exchange.route.model, usage: stream.usage, status: "ok", started: exchange.started,
            requestID: exchange.requestID
        )
        gateway.metrics.request(endpoint: "chat_completions", status: 200, duration: .now - exchange.started)
        gateway.relayed.add(1, ordering: .relaxed)
        if case .front = exchange.origin { gateway.relayedFromBytes.add(1, ordering: .relaxed) }
        gateway.metrics.relay("served")
        writeEnd(stream, exchange: exchange)
        finish(exchange)
    }

    /// The upstream's stream failed. Before any event reached the client the full path asks
    /// again; after, what was delivered is continued through the router (a failure it would
    /// not retry ends the stream with an error event, as the full path's would).
    func streamBroke(_ error: any Error, exchange: Exchange) {
        guard let stream = exchange.stream, stream.headWritten, let context else {
            replay(generation: generation)
            return
        }
        // Already resumed: the router's continuation owns the rest.
        guard stream.continuation == nil else { return }
        exchange.timer?.cancel()
        closeUpstream()
        // The events admitted before the break are delivered: they go out first.
        if !stream.out.isEmpty { writeEvents(stream, exchange: exchange) }
        let classified = error as? any RetryClassifiable
        if classified?.indicatesUnhealthyUpstream ?? true { exchange.route.breaker?.recordFailure(probe: false) }
        let resumable = stream.breakOff(reason: classified?.failureCode ?? "error") && (classified?.isRetryable ?? false)
        let request: ModelRequest
        do {
            request = try OpenAIServerWire.request(try GatewayRequest.parseBody(stream.requestBody.readableBytesView)).model
        } catch {
            endAfterBreak(error, exchange: exchange)
            return
        }
        guard resumable, let router = exchange.route.model.model as? Router else {
            endAfterBreak(error, exchange: exchange)
            return
        }
        gateway.relayResumes.add(1, ordering: .relaxed)
        gateway.metrics.relay("resumed")
        let events = router.stream(request, continuing: stream.delivery)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let generation = self.generation
        let start = stream.encoder
        stream.continuation = Task {
            var encoder = start
            var usage: Usage?
            var out: [UInt8] = []
            var failure: GatewayError?
            var iterator = events.makeAsyncIterator()
            do {
                while let batch = try await iterator.nextBatch() {
                    for event in batch {
                        if case .usage(let u) = event { usage = u }
                        encoder.encode(event, into: &out)
                    }
                    guard !out.isEmpty else { continue }
                    let bytes = out
                    out.removeAll(keepingCapacity: true)
                    loop.execute { bound.value.continued(bytes, generation: generation) }
                }
            } catch {
                let e = GatewayError.from(error)
                failure = e
                if !(error is CancellationError) { OpenAIStreamEncoder.error(e, into: &out) }
            }
            let last = out
            loop.execute { [usage, failure] in bound.value.continuationEnded(last, usage: usage, failure: failure, generation: generation) }
        }
    }

    /// A broken stream that is not resumed: an error event after what was delivered, then the end.
    private func endAfterBreak(_ error: any Error, exchange: Exchange) {
        guard let stream = exchange.stream else { return }
        let e = GatewayError.from(error)
        OpenAIStreamEncoder.error(e, into: &stream.out)
        gateway.metrics.error(code: e.code)
        gateway.book(
            principal: exchange.principal, model: exchange.route.model, usage: nil, status: e.code, started: exchange.started,
            requestID: exchange.requestID
        )
        gateway.metrics.request(endpoint: "chat_completions", status: 200, duration: .now - exchange.started)
        writeEnd(stream, exchange: exchange)
        finish(exchange)
    }

    /// Events of the router's continuation.
    func continued(_ bytes: [UInt8], generation: Int) {
        guard generation == self.generation, case .relaying(let exchange) = state, let stream = exchange.stream else { return }
        stream.out.append(contentsOf: bytes)
        writeEvents(stream, exchange: exchange)
    }

    /// The router's continuation ended (its last events, or its error event, in `bytes`).
    func continuationEnded(_ bytes: [UInt8], usage: Usage?, failure: GatewayError?, generation: Int) {
        guard generation == self.generation, case .relaying(let exchange) = state, let stream = exchange.stream else { return }
        stream.continuation = nil
        if let failure { gateway.metrics.error(code: failure.code) }
        gateway.book(
            principal: exchange.principal, model: exchange.route.model, usage: usage, status: failure?.code ?? "ok", started: exchange.started,
            requestID: exchange.requestID
        )
        gateway.metrics.request(endpoint: "chat_completions", status: 200, duration: .now - exchange.started)
        stream.out.append(contentsOf: bytes)
        writeEnd(stream, exchange: exchange)
        finish(exchange)
    }

    // MARK: Writing

    /// Writes the events in `out`: after the response head (chunked) if it has not gone yet.
    private func writeEvents(_ stream: RelayStream, exchange: Exchange) {
        guard let context else { return }
        let first = !stream.headWritten
        if first {
            stream.headWritten = true
            gateway.metrics.streamsInFlight.increment(by: 1)
        }
        switch exchange.origin {
        case .front(let front):
            var buffer = context.channel.allocator.buffer(capacity: stream.out.count + (first ? 256 : 16))
            if first { RelayStream.head(length: nil, requestID: exchange.requestID, into: &buffer) }
            RelayStream.chunk(stream.out, into: &buffer)
            front.write(buffer)
        case .codec:
            if first { context.write(wrapOutboundOut(.head(Self.streamHead(length: nil, requestID: exchange.requestID))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.body(ByteBuffer(bytes: stream.out))), promise: nil)
        }
        stream.out.removeAll(keepingCapacity: true)
    }

    /// Writes what is left in `out` and ends the response: a stream whose head has not gone
    /// yet goes out whole.
    private func writeEnd(_ stream: RelayStream, exchange: Exchange) {
        guard let context else { return }
        let whole = !stream.headWritten
        if !whole { gateway.metrics.streamsInFlight.decrement(by: 1) }
        switch exchange.origin {
        case .front(let front):
            var buffer = context.channel.allocator.buffer(capacity: stream.out.count + (whole ? 256 : 24))
            if whole {
                RelayStream.head(length: stream.out.count, requestID: exchange.requestID, into: &buffer)
                buffer.writeBytes(stream.out)
            } else {
                RelayStream.chunk(stream.out, into: &buffer)
                RelayStream.lastChunk(into: &buffer)
            }
            front.answer(buffer)
        case .codec:
            if whole {
                context.write(wrapOutboundOut(.head(Self.streamHead(length: stream.out.count, requestID: exchange.requestID))), promise: nil)
            }
            if !stream.out.isEmpty { context.write(wrapOutboundOut(.body(ByteBuffer(bytes: stream.out))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        stream.headWritten = true
        stream.out.removeAll()
    }

    /// A stream's response head for the codec (which frames a body without a length as chunks).
    private static func streamHead(length: Int?, requestID: String) -> HTTPResponse {
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream"
        fields[.cacheControl] = "no-cache"
        if let length { fields[.contentLength] = String(length) }
        fields[.xRequestID] = requestID
        fields[.requestID] = requestID
        fields[.date] = HTTPDate.now
        return HTTPResponse(status: .ok, headerFields: fields)
    }
}
