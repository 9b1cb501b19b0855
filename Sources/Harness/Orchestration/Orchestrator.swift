//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
public import Logging

/// Something that packs history and snippets into a budget (``ContextAssembler``).
public protocol ContextAssembling: Sendable {
    func assemble(system: String?, history: [Message], snippets: [Snippet]) -> AssembledContext
}

extension ContextAssembler: ContextAssembling {}

/// Runs agents: the multi-turn tool-calling loop, with its policies, guardrails, caching,
/// rate limiting and persistence.
///
/// ```swift
/// let orchestrator = Orchestrator()
/// let result = try await orchestrator.run(agent, input: "What's the weather in Paris?")
/// print(result.finalText, result.usage, result.stopReason)
///
/// for try await event in orchestrator.stream(agent, input: "…") {
///     if case .textDelta(let t) = event { print(t, terminator: "") }
/// }
/// ```
public struct Orchestrator: Sendable {
    /// Shared services of every run.
    public struct Configuration: Sendable {
        /// Caches model answers by request; `nil` for none.
        public var responseCache: ResponseCache?
        /// Admits model calls (key: the agent's name); `nil` for no limit.
        public var rateLimiter: (any RateLimiter)?
        /// Stores conversations of runs given a conversation id.
        public var conversationStore: (any ConversationStore)?
        /// Turns of stored history loaded at the start of a run; `nil` for all.
        public var historyLimit: Int?
        /// Packs history and snippets into a token budget before each model call; `nil`
        /// sends the whole history.
        public var contextAssembler: (any ContextAssembling)?
        /// Whether streamed runs carry partial-JSON previews of tool arguments.
        public var argumentPreviews: Bool
        /// Where the orchestrator logs: debug lines with the run id, agent and iteration as
        /// metadata, and a warning when a run fails.
        public var logger: Logger
        /// Where spans and metrics go; by default the process-wide tracer and metrics factory.
        public var observability: Observability

        public init(
            responseCache: ResponseCache? = nil,
            rateLimiter: (any RateLimiter)? = nil,
            conversationStore: (any ConversationStore)? = nil,
            historyLimit: Int? = 200,
            contextAssembler: (any ContextAssembling)? = nil,
            argumentPreviews: Bool = true,
            logger: Logger = Logger(label: "harness.orchestrator", factory: { _ in SwiftLogNoOpLogHandler() }),
            observability: Observability = .global
        ) {
            self.responseCache = responseCache
            self.rateLimiter = rateLimiter
            self.conversationStore = conversationStore
            self.historyLimit = historyLimit
            self.contextAssembler = contextAssembler
            self.argumentPreviews = argumentPreviews
            self.logger = logger
            self.observability = observability
        }
    }

    public var configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Runs `agent` on `input` to the end.
    ///
    /// - Returns: the result; a run ended by a policy limit or guardrail returns normally,
    ///   with its partial result and stop reason.
    /// - Throws: ``RunError`` when the model, the store or the rate limiter fails, or the
    ///   task is cancelled; it carries the partial result.
    public func run(_ agent: Agent, input: String, options: RunOptions = RunOptions()) async throws -> RunResult {
        try await run(agent, messages: [.user(input)], options: options)
    }

    /// Runs `agent` on new `messages` (appended to the stored history, if any).
    public func run(_ agent: Agent, messages: [Message], options: RunOptions = RunOptions()) async throws -> RunResult {
        let loop = RunLoop(agent: agent, configuration: configuration, options: options, emit: nil)
        return try await loop.runCollectingReports(input: messages)
    }

    /// Runs `agent` on `input`, streaming its events: text deltas, tool calls as soon as
    /// their names are known, tool results as they finish, and the final result.
    ///
    /// Read-only tools start as soon as their arguments are complete, while the model is
    /// still streaming (when the policy allows). Stopping the iteration cancels the run.
    public func stream(_ agent: Agent, input: String, options: RunOptions = RunOptions()) -> RunEventStream {
        stream(agent, messages: [.user(input)], options: options)
    }

    /// Streams a run on new `messages`. See ``stream(_:input:options:)``.
    public func stream(_ agent: Agent, messages: [Message], options: RunOptions = RunOptions()) -> RunEventStream {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RunEvent.self, throwing: (any Error).self)
        let configuration = self.configuration
        // The producer lives exactly as long as the consumer wants events: it is cancelled
        // when the stream is dropped or iteration stops.
        let task = Task {
            let loop = RunLoop(agent: agent, configuration: configuration, options: options) { continuation.yield($0) }
            do {
                let result = try await loop.runCollectingReports(input: messages)
                continuation.yield(.finished(result))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return RunEventStream(base: stream)
    }
}
