//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Why a run ended.
public enum StopReason: String, Sendable, Hashable, Codable {
    /// The model answered without calling tools.
    case completed
    /// ``RunPolicy/maxIterations`` model calls were made.
    case maxIterations
    /// The run was nested deeper than ``RunPolicy/maxToolDepth``.
    case maxToolDepth
    /// ``RunPolicy/maxToolCalls`` would have been exceeded.
    case maxToolCalls
    /// ``RunPolicy/maxTotalTokens`` was reached.
    case maxTotalTokens
    /// The model's output exceeded the guardrails' size limit.
    case maxOutputSize
    /// The same tool call kept getting the same result.
    case loopDetected
    /// A guardrail blocked the input or the output.
    case guardrail
    /// The run was cancelled.
    case cancelled
    /// The model, a store or the rate limiter failed.
    case failed
}

/// How one tool call went.
public enum ToolOutcome: String, Sendable, Hashable, Codable {
    case success
    /// The tool returned a result marked as an error.
    case toolError
    /// The tool threw.
    case failed
    case timedOut
    case unknownTool
    case invalidArguments
    case notAllowed
    case cancelled
    /// The run stopped before the call could run.
    case notExecuted
}

/// A tool call and what came of it.
public struct ToolCallRecord: Sendable, Hashable {
    public var call: ToolCall
    public var result: ToolResult
    public var outcome: ToolOutcome
    /// How long the tool ran.
    public var duration: Duration
    /// The iteration (model call number, from 1) that requested it.
    public var iteration: Int
    /// Whether it started while the model was still streaming.
    public var startedEarly: Bool
}

/// Where the time of one iteration went.
public struct IterationTiming: Sendable, Hashable {
    public var iteration: Int
    /// Waiting for the model (or the cache).
    public var model: Duration
    /// Waiting for tools after the model's turn ended.
    public var tools: Duration
    /// Everything else: Harness's own work.
    public var overhead: Duration
    public var total: Duration
    /// Whether the model's answer came from the response cache.
    public var cacheHit: Bool
}

/// The outcome of a run: final text, every message, every tool call, usage, timing, and
/// why it stopped. A run ended by a limit carries its partial result here.
public struct RunResult: Sendable {
    public var runID: String
    /// The model's final answer (the last assistant text).
    public var finalText: String
    /// The messages of this run, in order: the input, every assistant turn and tool result.
    public var messages: [Message]
    /// Every tool call with its result, in request order.
    public var toolCalls: [ToolCallRecord]
    /// Tokens used by all model calls.
    public var usage: Usage
    /// Model calls made.
    public var iterations: Int
    public var stopReason: StopReason
    /// More about the stop: the limit's value, the guardrail's message.
    public var stopDetail: String?
    public var timings: [IterationTiming]
    /// Model calls answered from the response cache.
    public var cacheHits: Int
    /// Wall time of the whole run.
    public var duration: Duration
    /// How each model call made through a resilience wrapper (``Router``, ``RetryingModel``)
    /// was served: route, retries, breaker decisions, hedges, timing. In call order.
    public var callReports: [CallReport] = []

    /// Whether the model finished on its own.
    public var isComplete: Bool { stopReason == .completed }
}

/// A run that failed (model or store error, rate limit refusal) or was cancelled. The work
/// done before the failure is in ``partial``.
public struct RunError: Error, Sendable, CustomStringConvertible {
    /// The Harness code (`modelError`, `storage`, `rateLimited`, `cancelled`, …).
    public var code: HarnessError.Code
    public var message: String
    /// The error that caused it.
    public var underlying: any Error
    /// What the run had done.
    public var partial: RunResult

    public var description: String { "run \(partial.runID) failed (\(code)): \(message)" }
}
