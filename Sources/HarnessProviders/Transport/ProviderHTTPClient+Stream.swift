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
