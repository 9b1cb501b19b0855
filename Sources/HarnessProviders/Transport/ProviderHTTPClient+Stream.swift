//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import NIOCore
import NIOHTTP1

/// Turns a provider's streamed response body into ModelStreamEvents.
///
/// A mapper lives inside one request's task, so it need not be Sendable. It is fed the body
/// in whatever pieces the network delivers and must give the same events for any split.
public protocol WireEventMapper: SendableMetatype {
    /// Takes the next piece of the body; appends the events it completes.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ModelStreamEvent]) throws
    /// The body ended; appends the last events, or throws if the stream was cut short.
    mutating func finish(into events: inout [ModelStreamEvent]) throws
}

extension ProviderHTTPClient {
    /// Sends `request` and streams its response through the mapper `makeMapper` builds.
    ///
    /// Events already delivered stay delivered when the stream breaks; the stream then
    /// throws a ``ProviderError`` that says why. Ending the iteration early (or cancelling
    /// the consuming task) cancels the request and closes its connection.
    ///
    /// Some compatible servers (LiteLLM's Anthropic route with mocked answers, for one)
    /// answer a streamed request with one JSON body. When the response says
    /// `application/json` and `decodeWhole` is given, the body is decoded by it and delivered
    /// as the events of that whole answer.
    public func eventStream<Mapper: WireEventMapper>(
        _ request: ProviderHTTPRequest,
        provider: String,
        timeouts: ProviderTimeouts = .default,
        decodeWhole: (@Sendable (JSONValue, ProviderHTTPResponse) throws -> ModelResponse)? = nil,
        makeMapper: @escaping @Sendable (ProviderHTTPResponse) -> Mapper
    ) -> ModelEventStream {
        if let target = fastTarget(for: request.url) {
            // The consumer pulls: each `next()` reads the body further only when the events
            // already decoded are used up — no task or hand-off per event in between.
            return ModelEventStream(
                HTTP1EventSequence(
                    client: self, request: request, target: target, provider: provider, timeouts: timeouts,
                    decodeWhole: decodeWhole, makeMapper: makeMapper
                )
            )
        }
        let (stream, continuation) = AsyncThrowingStream<ModelStreamEvent, any Error>.makeStream()
        let task = Task {
            do {
                try await execute(request, provider: provider, timeouts: timeouts) { head, body in
                    if let decodeWhole, head.headers.first(name: "content-type")?.lowercased().hasPrefix("application/json") == true {
                        let bytes = try await body.collect(upTo: Self.maxBodyBytes, provider: provider, requestID: head.requestID)
                        let json = try WireJSON.parse(bytes: bytes, provider: provider, requestID: head.requestID, what: "the response")
                        for event in try decodeWhole(json, head).streamEvents() { continuation.yield(event) }
                        return
                    }
                    var mapper = makeMapper(head)
                    var events: [ModelStreamEvent] = []
                    do {
                        for try await chunk in body {
                            try chunk.withUnsafeReadableBytes { try mapper.feed($0, into: &events) }
                            for event in events { continuation.yield(event) }
                            events.removeAll(keepingCapacity: true)
                        }
                        try mapper.finish(into: &events)
                        for event in events { continuation.yield(event) }
                    } catch {
                        // What the mapper completed before the failure is delivered first.
                        for event in events { continuation.yield(event) }
                        throw error
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return ModelEventStream(stream)
    }
}

/// The events of a streamed response read on the HTTP/1.1 client, pulled by the consumer.
///
/// Events a chunk completes before a failure are delivered before the failure is thrown.
/// Dropping the iterator or cancelling the consuming task ends the body, which closes the
/// connection.
struct HTTP1EventSequence<Mapper: WireEventMapper>: AsyncSequence, Sendable {
    typealias Element = ModelStreamEvent

    let client: ProviderHTTPClient
    let request: ProviderHTTPRequest
    let target: HTTP1UpstreamClient.Target
    let provider: String
    let timeouts: ProviderTimeouts
    let decodeWhole: (@Sendable (JSONValue, ProviderHTTPResponse) throws -> ModelResponse)?
    let makeMapper: @Sendable (ProviderHTTPResponse) -> Mapper

    func makeAsyncIterator() -> Iterator { Iterator(sequence: self) }

    struct Iterator: AsyncIteratorProtocol {
        private enum State {
            case notStarted
            case streaming(ProviderHTTPBody.AsyncIterator, Mapper)
            case ending
        }

        let sequence: HTTP1EventSequence
        private var state = State.notStarted
        private var pending: [ModelStreamEvent] = []
        private var index = 0
        private var failure: (any Error)?

        init(sequence: HTTP1EventSequence) {
            self.sequence = sequence
        }

        mutating func next() async throws -> ModelStreamEvent? {
            while true {
                if index < pending.count {
                    defer { index += 1 }
                    return pending[index]
                }
                pending.removeAll(keepingCapacity: true)
                index = 0
                if let failure {
                    self.failure = nil
                    state = .ending
                    throw ProviderHTTPClient.mapped(
                        failure, provider: sequence.provider, timeouts: sequence.timeouts, secrets: sequence.request.secrets
                    )
                }
                do {
                    try await advance()
                } catch {
                    state = .ending
                    failure = error
                }
                if case .ending = state, pending.isEmpty, failure == nil { return nil }
            }
        }

        /// Reads until at least one event is pending, the body ends, or something fails.
        private mutating func advance() async throws {
            switch state {
            case .notStarted:
                let s = sequence
                let (head, body) = try await s.client.openHTTP1(s.request, target: s.target, provider: s.provider, timeouts: s.timeouts)
                if let decodeWhole = s.decodeWhole,
                    head.headers.first(name: "content-type")?.lowercased().hasPrefix("application/json") == true
                {
                    state = .ending
                    let bytes = try await body.collect(upTo: ProviderHTTPClient.maxBodyBytes, provider: s.provider, requestID: head.requestID)
                    let json = try WireJSON.parse(bytes: bytes, provider: s.provider, requestID: head.requestID, what: "the response")
                    pending = try decodeWhole(json, head).streamEvents()
                    return
                }
                state = .streaming(body.makeAsyncIterator(), s.makeMapper(head))
            case .streaming(var body, var mapper):
                state = .ending  // while the iterator and mapper are out
                guard let chunk = try await body.next() else {
                    try mapper.finish(into: &pending)
                    state = .ending
                    return
                }
                do {
                    try chunk.withUnsafeReadableBytes { try mapper.feed($0, into: &pending) }
                } catch {
                    // What the mapper completed before the failure is delivered first.
                    failure = error
                    state = .ending
                    return
                }
                state = .streaming(body, mapper)
            case .ending:
                return
            }
        }
    }
}
