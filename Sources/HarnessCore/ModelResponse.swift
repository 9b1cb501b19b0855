//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Why a model stopped producing output.
public enum FinishReason: Sendable, Hashable, Codable {
    /// A natural end, or a stop sequence.
    case stop
    /// The output token limit was reached.
    case length
    /// The model asked for tool calls.
    case toolCalls
    /// The provider filtered the content.
    case contentFilter
    /// Any other reason, as the provider named it.
    case other(String)
}

/// Tokens used by one or more model calls, by kind.
///
/// `inputTokens` counts every prompt token, including those read from or written to the
/// provider's prompt cache; `cacheReadTokens` and `cacheWriteTokens` say how many of them
/// were. `reasoningTokens` are part of `outputTokens`.
public struct Usage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheReadTokens: Int
    public var cacheWriteTokens: Int
    public var reasoningTokens: Int

    public init(
        inputTokens: Int = 0,
        outputTokens: Int = 0,
        cacheReadTokens: Int = 0,
        cacheWriteTokens: Int = 0,
        reasoningTokens: Int = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
    }

    /// Input plus output tokens.
    public var totalTokens: Int { inputTokens + outputTokens }

    /// No tokens.
    public static let zero = Usage()

    public static func + (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            inputTokens: lhs.inputTokens + rhs.inputTokens,
            outputTokens: lhs.outputTokens + rhs.outputTokens,
            cacheReadTokens: lhs.cacheReadTokens + rhs.cacheReadTokens,
            cacheWriteTokens: lhs.cacheWriteTokens + rhs.cacheWriteTokens,
            reasoningTokens: lhs.reasoningTokens + rhs.reasoningTokens
        )
    }

    public static func += (lhs: inout Usage, rhs: Usage) { lhs = lhs + rhs }
}

/// A model's complete answer to one request.
public struct ModelResponse: Sendable, Hashable, Codable {
    /// The assistant message: text and tool-call parts.
    public var message: Message
    /// Why the model stopped.
    public var finishReason: FinishReason
    /// Tokens used.
    public var usage: Usage
    /// The model that answered, as the provider names it.
    public var model: String?
    /// The provider's request id, for support tickets and logs.
    public var requestID: String?
    /// How the call was served (routes, retries, breaker decisions, timing), when a
    /// resilience wrapper made it.
    public var callReport: CallReport?

    public init(
        message: Message,
        finishReason: FinishReason,
        usage: Usage = .zero,
        model: String? = nil,
        requestID: String? = nil,
        callReport: CallReport? = nil
    ) {
        self.message = message
        self.finishReason = finishReason
        self.usage = usage
        self.model = model
        self.requestID = requestID
        self.callReport = callReport
    }
}
