//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// The limits of one run. Every limit that is reached ends the run with its partial result
/// and a ``StopReason`` naming the limit; none of them ends it with an empty error.
public struct RunPolicy: Sendable, Hashable {
    /// The most model calls in a run.
    public var maxIterations: Int
    /// The deepest nesting of runs started by tools (an agent used as a tool by another).
    /// A run deeper than this stops at once with ``StopReason/maxToolDepth``.
    public var maxToolDepth: Int
    /// The most tool calls executed in a run; `nil` for no limit.
    public var maxToolCalls: Int?
    /// A tool's timeout, when the tool declares none; `nil` for no timeout.
    public var toolTimeout: Duration?
    /// Tool output longer than this many bytes is cut, with a note saying so.
    public var maxToolOutputBytes: Int
    /// The most tool calls running at once.
    public var toolConcurrency: Int
    /// The most tokens (input plus output, summed over model calls) a run may use; `nil`
    /// for no limit.
    public var maxTotalTokens: Int?
    /// Start read-only tools while the model is still streaming, as soon as their
    /// arguments are complete.
    public var eagerToolExecution: Bool
    /// The same tool called with the same arguments and getting the same result this many
    /// times trips the loop breaker; `nil` turns detection off.
    public var loopThreshold: Int?

    public init(
        maxIterations: Int = 10,
        maxToolDepth: Int = 3,
        maxToolCalls: Int? = nil,
        toolTimeout: Duration? = .seconds(60),
        maxToolOutputBytes: Int = 64 * 1024,
        toolConcurrency: Int = 8,
        maxTotalTokens: Int? = nil,
        eagerToolExecution: Bool = true,
        loopThreshold: Int? = 3
    ) {
        self.maxIterations = max(1, maxIterations)
        self.maxToolDepth = max(0, maxToolDepth)
        self.maxToolCalls = maxToolCalls
        self.toolTimeout = toolTimeout
        self.maxToolOutputBytes = max(64, maxToolOutputBytes)
        self.toolConcurrency = max(1, toolConcurrency)
        self.maxTotalTokens = maxTotalTokens
        self.eagerToolExecution = eagerToolExecution
        self.loopThreshold = loopThreshold.map { max(2, $0) }
    }
}

/// An agent: a model, instructions, tools, and the policy and guardrails its runs obey.
///
/// ```swift
/// let agent = Agent(
///     name: "weather",
///     instructions: "Answer questions about the weather.",
///     model: openAI, modelID: "gpt-4o-mini",
///     tools: [getWeather]
/// )
/// let result = try await Orchestrator().run(agent, input: "Weather in Paris?")
/// ```
public struct Agent: Sendable {
    /// A name, for logs, metrics and rate-limit keys.
    public var name: String
    /// The system prompt.
    public var instructions: String?
    /// The model that answers.
    public var model: any LanguageModel
    /// The model id sent to the provider.
    public var modelID: String
    /// The tools the model may call.
    public var tools: [any Tool]
    /// Limits of each run.
    public var policy: RunPolicy
    /// Checks on input, output and tool calls.
    public var guardrails: Guardrails
    /// Sampling and length options.
    public var options: GenerationOptions
    /// The shape of the answer.
    public var responseFormat: ResponseFormat
    /// Whether and which tool the model must call.
    public var toolChoice: ToolChoice
    /// Look for tool calls written as text when the model gives none natively (for models
    /// without native tool calling).
    public var parsesToolCallsInText: Bool

    public init(
        name: String,
        instructions: String? = nil,
        model: any LanguageModel,
        modelID: String,
        tools: [any Tool] = [],
        policy: RunPolicy = RunPolicy(),
        guardrails: Guardrails = .none,
        options: GenerationOptions = GenerationOptions(),
        responseFormat: ResponseFormat = .text,
        toolChoice: ToolChoice = .auto,
        parsesToolCallsInText: Bool = true
    ) {
        self.name = name
        self.instructions = instructions
        self.model = model
        self.modelID = modelID
        self.tools = tools
        self.policy = policy
        self.guardrails = guardrails
        self.options = options
        self.responseFormat = responseFormat
        self.toolChoice = toolChoice
        self.parsesToolCallsInText = parsesToolCallsInText
    }
}

/// Per-run options: where the conversation is stored, context, metadata.
public struct RunOptions: Sendable {
    /// The stored conversation to continue and append to; `nil` for none.
    public var conversationID: String?
    /// The tenant owning the conversation.
    public var tenant: String
    /// Retrieved context for the model.
    public var snippets: [Snippet]
    /// Metadata passed to the model request and tools.
    public var metadata: [String: String]
    /// Nesting depth (set by tools that start runs).
    public var depth: Int
    /// The run id; generated when `nil`.
    public var runID: String?

    public init(
        conversationID: String? = nil,
        tenant: String = "default",
        snippets: [Snippet] = [],
        metadata: [String: String] = [:],
        depth: Int = 0,
        runID: String? = nil
    ) {
        self.conversationID = conversationID
        self.tenant = tenant
        self.snippets = snippets
        self.metadata = metadata
        self.depth = depth
        self.runID = runID
    }
}
