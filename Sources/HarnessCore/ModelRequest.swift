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
///
/// Everything but `messages` lives in a shared copy-on-write box: an agent's requests differ
/// only in their messages, so making one costs two reference-count operations instead of one
/// per field.
public struct ModelRequest: Sendable {
    /// The parts of a request that stay the same across an agent's calls.
    public struct Settings: Sendable, Hashable, Codable {
        public var model: String
        public var system: String?
        public var tools: [ToolSpec]
        public var toolChoice: ToolChoice
        public var responseFormat: ResponseFormat
        public var options: GenerationOptions
        public var metadata: [String: String]

        public init(
            model: String,
            system: String? = nil,
            tools: [ToolSpec] = [],
            toolChoice: ToolChoice = .auto,
            responseFormat: ResponseFormat = .text,
            options: GenerationOptions = GenerationOptions(),
            metadata: [String: String] = [:]
        ) {
            self.model = model
            self.system = system
            self.tools = tools
            self.toolChoice = toolChoice
            self.responseFormat = responseFormat
            self.options = options
            self.metadata = metadata
        }
    }

    /// A shared, immutable holder of ``Settings``; copied on write.
    public final class SettingsBox: Sendable {
        public let settings: Settings

        public init(_ settings: Settings) {
            self.settings = settings
        }
    }

    @usableFromInline
    var box: SettingsBox
    /// The conversation so far.
    public var messages: [Message]

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
        self.box = SettingsBox(Settings(
            model: model, system: system, tools: tools, toolChoice: toolChoice,
            responseFormat: responseFormat, options: options, metadata: metadata
        ))
        self.messages = messages
    }

    /// A request sharing `settings` (no copy of them is made).
    @inlinable
    public init(settings: SettingsBox, messages: [Message]) {
        self.box = settings
        self.messages = messages
    }

    /// All settings at once.
    public var settings: Settings {
        get { box.settings }
        set { box = SettingsBox(newValue) }
    }

    /// The model id, as the provider knows it.
    public var model: String {
        get { box.settings.model }
        set { settings.model = newValue }
    }
    /// The system prompt, if any.
    public var system: String? {
        get { box.settings.system }
        set { settings.system = newValue }
    }
    /// The tools the model may call.
    public var tools: [ToolSpec] {
        get { box.settings.tools }
        set { settings.tools = newValue }
    }
    /// Whether and which tool the model must call.
    public var toolChoice: ToolChoice {
        get { box.settings.toolChoice }
        set { settings.toolChoice = newValue }
    }
    /// The shape of the answer.
    public var responseFormat: ResponseFormat {
        get { box.settings.responseFormat }
        set { settings.responseFormat = newValue }
    }
    /// Sampling and length options.
    public var options: GenerationOptions {
        get { box.settings.options }
        set { settings.options = newValue }
    }
    /// Free-form metadata (tenant, user, trace ids). Not part of the cache key.
    public var metadata: [String: String] {
        get { box.settings.metadata }
        set { settings.metadata = newValue }
    }
}

extension ModelRequest: Hashable {
    public static func == (lhs: ModelRequest, rhs: ModelRequest) -> Bool {
        (lhs.box === rhs.box || lhs.box.settings == rhs.box.settings) && lhs.messages == rhs.messages
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(box.settings)
        hasher.combine(messages)
    }
}

extension ModelRequest: Codable {
    enum CodingKeys: String, CodingKey {
        case settings, messages
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.box = SettingsBox(try c.decode(Settings.self, forKey: .settings))
        self.messages = try c.decode([Message].self, forKey: .messages)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(box.settings, forKey: .settings)
        try c.encode(messages, forKey: .messages)
    }
}
