//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The shape of the answer asked of a model.
public enum ResponseFormat: Sendable, Hashable, Codable {
    /// Free text.
    case text
    /// Any JSON object.
    case jsonObject
    /// JSON matching a schema.
    case jsonSchema(name: String, schema: JSONValue, strict: Bool)
}

/// Sampling and length options of a model call. `nil` means the provider's default.
public struct GenerationOptions: Sendable, Hashable, Codable {
    public var temperature: Double?
    public var topP: Double?
    public var maxOutputTokens: Int?
    public var seed: Int?
    public var stopSequences: [String]

    public init(
        temperature: Double? = nil,
        topP: Double? = nil,
        maxOutputTokens: Int? = nil,
        seed: Int? = nil,
        stopSequences: [String] = []
    ) {
        self.temperature = temperature
        self.topP = topP
        self.maxOutputTokens = maxOutputTokens
        self.seed = seed
        self.stopSequences = stopSequences
    }
}

/// One call of a language model: everything that determines its answer.
///
/// The system prompt is kept apart from `messages` (as Anthropic and Gemini do); adapters
/// for wire formats that put it first in the message list do so themselves.
public struct ModelRequest: Sendable, Hashable, Codable {
    /// The model id, as the provider knows it.
    public var model: String
    /// The system prompt, if any.
    public var system: String?
    /// The conversation so far.
    public var messages: [Message]
    /// The tools the model may call.
    public var tools: [ToolSpec]
    /// Whether and which tool the model must call.
    public var toolChoice: ToolChoice
    /// The shape of the answer.
    public var responseFormat: ResponseFormat
    /// Sampling and length options.
    public var options: GenerationOptions
    /// Free-form metadata (tenant, user, trace ids). Not part of the cache key.
    public var metadata: [String: String]

    public init(
        model: String,
        system: String? = nil,
        messages: [Message],
        tools: [ToolSpec] = [],
        toolChoice: ToolChoice = .auto,
        responseFormat: ResponseFormat = .text,
        options: GenerationOptions = GenerationOptions(),
        metadata: [String: String] = [:]
    ) {
        self.model = model
        self.system = system
        self.messages = messages
        self.tools = tools
        self.toolChoice = toolChoice
        self.responseFormat = responseFormat
        self.options = options
        self.metadata = metadata
    }
}
