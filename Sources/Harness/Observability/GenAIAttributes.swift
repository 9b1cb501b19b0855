//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// The span attribute keys Harness sets: OpenTelemetry's GenAI semantic conventions where
/// they define one, `harness.*` otherwise.
///
/// Spans never carry prompt or answer text, tool arguments or results, or credentials.
public enum GenAIAttributes {
    public static let operationName = "gen_ai.operation.name"
    public static let providerName = "gen_ai.provider.name"
    public static let requestModel = "gen_ai.request.model"
    public static let responseModel = "gen_ai.response.model"
    public static let responseID = "gen_ai.response.id"
    public static let finishReasons = "gen_ai.response.finish_reasons"
    public static let inputTokens = "gen_ai.usage.input_tokens"
    public static let outputTokens = "gen_ai.usage.output_tokens"
    public static let toolName = "gen_ai.tool.name"
    public static let toolCallID = "gen_ai.tool.call.id"
    public static let toolType = "gen_ai.tool.type"
    public static let agentName = "gen_ai.agent.name"
    public static let conversationID = "gen_ai.conversation.id"
    public static let errorType = "error.type"

    public static let runID = "harness.run.id"
    public static let iteration = "harness.iteration"
    public static let stopReason = "harness.stop_reason"
    public static let cacheHit = "harness.cache.hit"
    public static let toolOutcome = "harness.tool.outcome"
    public static let toolStartedEarly = "harness.tool.started_early"
    public static let storeOperation = "harness.store.operation"
    public static let storeType = "harness.store.type"

    /// The `gen_ai.operation.name` values.
    public enum Operation {
        public static let chat = "chat"
        public static let executeTool = "execute_tool"
        public static let invokeAgent = "invoke_agent"
    }

    /// `reason` as `gen_ai.response.finish_reasons` names it (`stop`, `length`, `tool_calls`,
    /// `content_filter`, or the provider's own).
    public static func finishReason(_ reason: FinishReason) -> String {
        switch reason {
        case .stop: "stop"
        case .length: "length"
        case .toolCalls: "tool_calls"
        case .contentFilter: "content_filter"
        case .other(let name): name
        }
    }
}
