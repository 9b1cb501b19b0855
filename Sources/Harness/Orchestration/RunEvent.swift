//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// One event of a streamed run, in the order things happen.
public enum RunEvent: Sendable {
    /// A model call began (numbered from 1).
    case iterationStarted(Int)
    /// More answer text.
    case textDelta(String)
    /// The model began a tool call; its id and name are known.
    case toolCallStarted(id: String, name: String)
    /// More argument text; `preview` is what the arguments parse to so far (for display
    /// only: a call is never executed from a preview).
    case toolCallArgumentsDelta(id: String, delta: String, preview: JSONValue?)
    /// A call's arguments are complete.
    case toolCallReady(ToolCall)
    /// A tool began running; `early` when the model was still streaming.
    case toolExecutionStarted(ToolCall, early: Bool)
    /// A tool finished (in completion order).
    case toolResult(ToolCallRecord)
    /// The model's complete turn, with its usage.
    case modelResponse(ModelResponse, cacheHit: Bool)
    /// Something the run did on its own: the loop breaker tripped, a guardrail fired.
    case notice(String)
    /// The run ended; always the last event of a run that did not fail.
    case finished(RunResult)
}

/// The events of a streamed run. Iterating it drives nothing: the run proceeds on its own
/// task and stops when the consumer stops iterating (the run is then cancelled). A failed run
/// throws its ``RunError`` after the events already delivered.
public struct RunEventStream: AsyncSequence, Sendable {
    public typealias Element = RunEvent
    let base: AsyncThrowingStream<RunEvent, any Error>

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<RunEvent, any Error>.AsyncIterator

        public mutating func next() async throws -> RunEvent? { try await base.next() }
    }

    /// Consumes the stream and returns the final result.
    public func result() async throws -> RunResult {
        for try await event in self {
            if case .finished(let result) = event { return result }
        }
        throw HarnessError(.cancelled, "the run ended without a result")
    }
}
