//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Synchronization

/// A ``LanguageModel`` that plays a script, deterministically: each call takes the next
/// step. Used by tests, benchmarks and the demo.
///
/// ```swift
/// let model = ScriptedModel([
///     .toolCalls([ToolCall(id: "c1", name: "get_weather", arguments: ["city": "Paris"])]),
///     .text("It is sunny in Paris."),
/// ])
/// ```
public final class ScriptedModel: LanguageModel {
    /// One answer of the script.
    public struct Step: Sendable {
        /// The complete answer.
        public var response: ModelResponse
        /// Streaming: split text and tool arguments into pieces of this many characters.
        public var chunkSize: Int?
        /// Streaming: wait this long before each event (to interleave with tools in tests).
        public var delayPerEvent: Duration?
        /// Streaming: stop after this many events and throw (a broken connection).
        public var breakAfterEvents: Int?
        /// Fail the call with this error instead of answering.
        public var error: (any Error & Sendable)?

        public init(
            response: ModelResponse,
            chunkSize: Int? = nil,
            delayPerEvent: Duration? = nil,
            breakAfterEvents: Int? = nil,
            error: (any Error & Sendable)? = nil
        ) {
            self.response = response
            self.chunkSize = chunkSize
            self.delayPerEvent = delayPerEvent
            self.breakAfterEvents = breakAfterEvents
            self.error = error
        }

        /// A text answer.
        public static func text(_ text: String, usage: Usage = Usage(inputTokens: 10, outputTokens: 5), chunkSize: Int? = nil) -> Step {
            Step(response: ModelResponse(message: .assistant(text), finishReason: .stop, usage: usage), chunkSize: chunkSize)
        }

        /// An answer calling tools (with optional text before the calls).
        public static func toolCalls(
            _ calls: [ToolCall],
            text: String = "",
            usage: Usage = Usage(inputTokens: 10, outputTokens: 5),
            chunkSize: Int? = nil
        ) -> Step {
            Step(
                response: ModelResponse(message: .assistant(text, toolCalls: calls), finishReason: .toolCalls, usage: usage),
                chunkSize: chunkSize
            )
        }

        /// A failed call.
        public static func failure(_ error: any Error & Sendable) -> Step {
            Step(response: ModelResponse(message: .assistant(""), finishReason: .stop), error: error)
        }
    }

    /// What the script does when it runs out.
    public enum Exhaustion: Sendable {
        /// Start again from the first step.
        case loop
        /// Repeat the last step.
        case repeatLast
        /// Throw an error.
        case fail
    }

    struct State {
        var next = 0
        var requests: [ModelRequest] = []
    }

    public let steps: [Step]
    public let exhaustion: Exhaustion
    public let providerName = "scripted"
    /// Whether to record requests (off for benchmarks).
    public let recordsRequests: Bool
    private let state = Mutex(State())

    public init(_ steps: [Step], whenExhausted exhaustion: Exhaustion = .fail, recordsRequests: Bool = true) {
        self.steps = steps
        self.exhaustion = exhaustion
        self.recordsRequests = recordsRequests
    }

    /// The requests received so far, in order.
    public var requests: [ModelRequest] { state.withLock { $0.requests } }

    /// The number of calls made so far.
    public var callCount: Int { state.withLock { $0.next } }

    /// Starts the script again.
    public func reset() { state.withLock { $0 = State() } }

    func takeStep(_ request: ModelRequest) throws -> Step {
        let index: Int = state.withLock { s in
            if recordsRequests { s.requests.append(request) }
            defer { s.next += 1 }
            return s.next
        }
        guard !steps.isEmpty else { throw HarnessError(.modelError, "the script is empty") }
        if index < steps.count { return steps[index] }
        switch exhaustion {
        case .loop: return steps[index % steps.count]
        case .repeatLast: return steps[steps.count - 1]
        case .fail: throw HarnessError(.modelError, "the script has only \(steps.count) steps; call \(index + 1) has none")
        }
    }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        let step = try takeStep(request)
        if let error = step.error { throw error }
        var response = step.response
        if response.model == nil { response.model = request.model }
        return response
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        let step: Step
        do {
            step = try takeStep(request)
        } catch {
            return ModelEventStream(events: [], error: error)
        }
        if let error = step.error { return ModelEventStream(events: [], error: error) }
        var events = Self.events(for: step.response, chunkSize: step.chunkSize)
        var breakError: HarnessError? = nil
        if let cut = step.breakAfterEvents, cut < events.count {
            events = Array(events.prefix(cut))
            breakError = HarnessError(.modelError, "connection reset by the scripted model after \(cut) events")
        }
        guard let delay = step.delayPerEvent else { return ModelEventStream(events: events, error: breakError) }
        let finalEvents = events
        let finalError = breakError
        return ModelEventStream(
            AsyncThrowingStream<ModelStreamEvent, any Error> { continuation in
                let task = Task {
                    do {
                        for event in finalEvents {
                            try await Task.sleep(for: delay)
                            continuation.yield(event)
                        }
                        if let finalError { throw finalError }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        )
    }

    /// The stream events of `response`, with text and arguments split into `chunkSize` pieces.
    static func events(for response: ModelResponse, chunkSize: Int?) -> [ModelStreamEvent] {
        guard let chunkSize, chunkSize > 0 else { return response.streamEvents() }
        var events: [ModelStreamEvent] = []
        for part in response.message.content {
            switch part {
            case .text(let text):
                for piece in chunks(text, chunkSize) { events.append(.textDelta(piece)) }
            case .toolCall(let call):
                events.append(.toolCallStart(id: call.id, name: call.name))
                for piece in chunks(call.rawArguments, chunkSize) {
                    events.append(.toolCallArgumentsDelta(id: call.id, delta: piece))
                }
                events.append(.toolCallComplete(call))
            default: break
            }
        }
        events.append(.usage(response.usage))
        events.append(.finish(response.finishReason, requestID: response.requestID))
        return events
    }

    static func chunks(_ text: String, _ size: Int) -> [String] {
        var out: [String] = []
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            out.append(String(text[i..<j]))
            i = j
        }
        return out
    }
}
