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
/// Building is cheap: with no snippets the history array and system prompt are passed on
/// as they are (no copy); snippets are added to the system prompt as a context section.
public struct PromptBuilder: Sendable {
    public var model: String
    public var system: String?
    public var tools: [ToolSpec]
    public var toolChoice: ToolChoice
    public var responseFormat: ResponseFormat
    public var options: GenerationOptions

    public init(
        model: String,
        system: String? = nil,
        tools: [ToolSpec] = [],
        toolChoice: ToolChoice = .auto,
        responseFormat: ResponseFormat = .text,
        options: GenerationOptions = GenerationOptions()
    ) {
        self.model = model
        self.system = system
        self.tools = tools
        self.toolChoice = toolChoice
        self.responseFormat = responseFormat
        self.options = options
    }

    /// The request for `history`, with `snippets` as context and `metadata` attached.
    @inlinable
    public func build(
        history: [Message],
        snippets: [Snippet] = [],
        metadata: [String: String] = [:]
    ) -> ModelRequest {
        ModelRequest(
            model: model,
            system: snippets.isEmpty ? system : Self.systemWithContext(system, snippets),
            messages: history,
            tools: tools,
            toolChoice: tools.isEmpty ? .auto : toolChoice,
            responseFormat: responseFormat,
            options: options,
            metadata: metadata
        )
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
