//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One event of a model's streamed answer. Every provider adapter produces exactly this
/// sequence, whatever its wire format:
///
/// - any number of `textDelta`;
/// - per tool call: `toolCallStart` once its id and name are known, `toolCallArgumentsDelta`
///   as argument text arrives, and `toolCallComplete` once its arguments are complete;
/// - `usage` (at most once, usually near the end);
/// - `finish`, last.
///
/// A resilient wrapper that resumes a broken stream puts a `seam` between the events of the
/// broken attempt and those of the continuation (see ``StreamSeam``); plain providers never
/// deliver one.
///
/// A stream that breaks throws after the events already delivered; it never delivers a
/// `toolCallComplete` for a call whose arguments were cut off.
public enum ModelStreamEvent: Sendable, Hashable {
    /// More answer text.
    case textDelta(String)
    /// A tool call began: its id and name are known.
    case toolCallStart(id: String, name: String)
    /// More argument text for the call with this id.
    case toolCallArgumentsDelta(id: String, delta: String)
    /// A tool call's arguments are complete.
    case toolCallComplete(ToolCall)
    /// Token usage of the call.
    case usage(Usage)
    /// The answer is complete.
    case finish(FinishReason, requestID: String?)
    /// The stream broke after delivering output and was resumed: what follows continues
    /// the answer. Tool calls the seam lists as dropped were cut off; discard them.
    case seam(StreamSeam)
}

/// A type-erased, sendable stream of ModelStreamEvents.
///
/// Adapters build one from any `AsyncSequence` of events, or from an
/// `AsyncThrowingStream` they feed.
public struct ModelEventStream: AsyncSequence, Sendable {
    public typealias Element = ModelStreamEvent

    private let make: @Sendable () -> AsyncIterator

    /// Wraps any sendable async sequence of events.
    public init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == ModelStreamEvent {
        self.make = {
            var iterator = sequence.makeAsyncIterator()
            return AsyncIterator { try await iterator.next() }
        }
    }

    /// A stream that delivers `events` and then ends, or throws `error` after them.
    public init(events: [ModelStreamEvent], error: (any Error)? = nil) {
        self.make = {
            // One position shared by the iterator's closures (the iterator is used by one
            // task at a time).
            final class Position: @unchecked Sendable { var index = 0 }
            let position = Position()
            let next: () async throws -> ModelStreamEvent? = {
                try Task.checkCancellation()
                if position.index < events.count {
                    defer { position.index += 1 }
                    return events[position.index]
                }
                if let error, position.index == events.count {
                    position.index += 1
                    throw error
                }
                return nil
            }
            return AsyncIterator(
                next: next,
                nextBatch: { try await next().map { [$0] } },
                restIfEnded: {
                    guard error == nil else { return nil }
                    let rest = position.index < events.count ? Array(events[position.index...]) : []
                    position.index = events.count
                    return rest
                }
            )
        }
    }

    init(makeIterator: @escaping @Sendable () -> AsyncIterator) {
        self.make = makeIterator
    }

    public func makeAsyncIterator() -> AsyncIterator { make() }

    /// The iterator of a ModelEventStream.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var nextElement: () async throws -> ModelStreamEvent?
        var nextElements: (() async throws -> [ModelStreamEvent]?)?
        var endedRest: (() -> [ModelStreamEvent]?)?

        init(_ next: @escaping () async throws -> ModelStreamEvent?) {
            self.nextElement = next
        }

        init(
            next: @escaping () async throws -> ModelStreamEvent?,
            nextBatch: @escaping () async throws -> [ModelStreamEvent]?,
            restIfEnded: (() -> [ModelStreamEvent]?)? = nil
        ) {
            self.nextElement = next
            self.nextElements = nextBatch
            self.endedRest = restIfEnded
        }

        public mutating func next() async throws -> ModelStreamEvent? {
            try await nextElement()
        }

        /// The next event and every event already available after it (at least one; nil at
        /// the end). Streams that cannot tell what is available give one event at a time.
        public mutating func nextBatch() async throws -> [ModelStreamEvent]? {
            if let nextElements { return try await nextElements() }
            return try await nextElement().map { [$0] }
        }

        /// When the stream has already ended without an error, every event left in it (maybe
        /// none), taken at once without waiting; nil when it has not ended yet, ended with
        /// an error (which `next()` then throws), or cannot tell. A nil answer leaves the
        /// stream as it was; a non-nil one consumes it, and `next()` then returns nil.
        ///
        /// For a consumer that can do better with the whole answer in hand — a server that
        /// sends a short stream in one write — and otherwise goes on reading.
        public mutating func restIfEnded() -> [ModelStreamEvent]? {
            endedRest?()
        }
    }
}

/// Builds a ModelResponse from stream events.
///
/// Tool calls are taken from `toolCallComplete` events only: a call that was started but
/// never completed (a cut-off stream) is reported in incompleteToolCallIDs and never
/// becomes part of the response.
public struct ModelStreamAccumulator: Sendable {
    public private(set) var text = ""
    public private(set) var toolCalls: [ToolCall] = []
    public private(set) var usage = Usage.zero
    public private(set) var finishReason: FinishReason?
    public private(set) var requestID: String?
    /// Where the stream was resumed after breaking, in order.
    public private(set) var seams: [StreamSeam] = []
    private var started: [String] = []

    public init() {}

    /// Takes in one event.
    public mutating func add(_ event: ModelStreamEvent) {
        switch event {
        case .textDelta(let t): text += t
        case .toolCallStart(let id, _): started.append(id)
        case .toolCallArgumentsDelta: break
        case .toolCallComplete(let call): toolCalls.append(call)
        case .usage(let u): usage = u
        case .finish(let reason, let id):
            finishReason = reason
            if let id { requestID = id }
        case .seam(let seam):
            seams.append(seam)
            started.removeAll { seam.droppedToolCallIDs.contains($0) }
        }
    }

    /// Ids of calls that were started but never completed.
    public var incompleteToolCallIDs: [String] {
        started.filter { id in !toolCalls.contains { $0.id == id } }
    }

    /// The response so far.
    public var response: ModelResponse {
        ModelResponse(
            message: .assistant(text, toolCalls: toolCalls),
            finishReason: finishReason ?? .other("incomplete"),
            usage: usage,
            requestID: requestID
        )
    }
}

extension ModelResponse {
    /// The events a stream of this response would carry, in the canonical order, with the
    /// text split into chunks of `chunkSize` characters (all of it at once when `nil`).
    public func streamEvents(chunkSize: Int? = nil) -> [ModelStreamEvent] {
        var events: [ModelStreamEvent] = []
        let text = message.text
        if !text.isEmpty {
            if let chunkSize, chunkSize > 0 {
                var i = text.startIndex
                while i < text.endIndex {
                    let j = text.index(i, offsetBy: chunkSize, limitedBy: text.endIndex) ?? text.endIndex
                    events.append(.textDelta(String(text[i..<j])))
                    i = j
                }
            } else {
                events.append(.textDelta(text))
            }
        }
        for call in message.toolCalls {
            events.append(.toolCallStart(id: call.id, name: call.name))
            events.append(.toolCallArgumentsDelta(id: call.id, delta: call.rawArguments))
            events.append(.toolCallComplete(call))
        }
        events.append(.usage(usage))
        events.append(.finish(finishReason, requestID: requestID))
        return events
    }
}
