//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// A piece of retrieved context offered to the model, with a relevance score.
public struct Snippet: Sendable, Hashable, Codable {
    /// The text.
    public var text: String
    /// Relevance: higher is better.
    public var score: Double
    /// Where it came from (a document id, a URL).
    public var source: String?
    /// Its size in tokens, if already known (saves counting it again).
    public var tokenCount: Int?

    public init(text: String, score: Double, source: String? = nil, tokenCount: Int? = nil) {
        self.text = text
        self.score = score
        self.source = source
        self.tokenCount = tokenCount
    }
}

/// Turns an agent's settings, the history and context snippets into a ``ModelRequest``.
///
/// Building is cheap: the settings are made once, in `init`, and shared by every request
/// (two reference-count operations per build); with snippets, the system prompt gains a
/// context section (one copy of the settings).
public struct PromptBuilder: Sendable {
    @usableFromInline
    let template: ModelRequest.SettingsBox

    public init(
        model: String,
        system: String? = nil,
        tools: [ToolSpec] = [],
        toolChoice: ToolChoice = .auto,
        responseFormat: ResponseFormat = .text,
        options: GenerationOptions = GenerationOptions()
    ) {
        self.template = ModelRequest.SettingsBox(ModelRequest.Settings(
            model: model, system: system, tools: tools,
            toolChoice: tools.isEmpty ? .auto : toolChoice,
            responseFormat: responseFormat, options: options
        ))
    }

    /// The shared settings of every request.
    public var settings: ModelRequest.Settings { template.settings }

    /// The request for `history`, with `snippets` as context and `metadata` attached.
    @inlinable
    public func build(
        history: [Message],
        snippets: [Snippet] = [],
        metadata: [String: String] = [:]
    ) -> ModelRequest {
        var request = ModelRequest(settings: template, messages: history)
        if !snippets.isEmpty { request.system = Self.systemWithContext(template.settings.system, snippets) }
        if !metadata.isEmpty { request.metadata = metadata }
        return request
    }

    @usableFromInline
    static func systemWithContext(_ system: String?, _ snippets: [Snippet]) -> String {
        var out = system ?? ""
        if !out.isEmpty { out += "\n\n" }
        out += "Context:\n"
        for (i, s) in snippets.enumerated() {
            out += "[\(i + 1)]"
            if let source = s.source { out += " (\(source))" }
            out += " \(s.text)\n"
        }
        return out
    }
}
