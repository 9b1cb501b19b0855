//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Who wrote a message.
public enum Role: String, Sendable, Hashable, Codable {
    /// Instructions from the application.
    case system
    /// The person or program asking.
    case user
    /// The model.
    case assistant
    /// Results of tool calls, sent back to the model.
    case tool
}

/// An image given to a model, by URL or inline bytes (base64).
public struct ImageContent: Sendable, Hashable, Codable {
    /// Where the image lives: an `https:` URL or a `data:` URL.
    public var url: String?
    /// Base64 image bytes, when not given by URL.
    public var base64Data: String?
    /// The media type, such as `image/png`.
    public var mediaType: String?

    public init(url: String) {
        self.url = url
    }

    public init(base64Data: String, mediaType: String) {
        self.base64Data = base64Data
        self.mediaType = mediaType
    }
}

/// One part of a message's content.
///
/// Encoded as a tagged object: `{"type": "text", "text": "…"}`, `{"type": "image", "image": {…}}`,
/// `{"type": "tool_call", "tool_call": {…}}`, `{"type": "tool_result", "tool_result": {…}}` —
/// the form stored turns and exports use.
public enum ContentPart: Sendable, Hashable, Codable {
    /// Text.
    case text(String)
    /// An image.
    case image(ImageContent)
    /// A call of a tool requested by the model (assistant messages).
    case toolCall(ToolCall)
    /// The result of a tool call (tool messages).
    case toolResult(ToolResult)

    enum CodingKeys: String, CodingKey {
        case type, text, image
        case toolCall = "tool_call"
        case toolResult = "tool_result"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .type) {
        case "text": self = .text(try c.decode(String.self, forKey: .text))
        case "image": self = .image(try c.decode(ImageContent.self, forKey: .image))
        case "tool_call": self = .toolCall(try c.decode(ToolCall.self, forKey: .toolCall))
        case "tool_result": self = .toolResult(try c.decode(ToolResult.self, forKey: .toolResult))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown content part type '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let t):
            try c.encode("text", forKey: .type)
            try c.encode(t, forKey: .text)
        case .image(let i):
            try c.encode("image", forKey: .type)
            try c.encode(i, forKey: .image)
        case .toolCall(let call):
            try c.encode("tool_call", forKey: .type)
            try c.encode(call, forKey: .toolCall)
        case .toolResult(let r):
            try c.encode("tool_result", forKey: .type)
            try c.encode(r, forKey: .toolResult)
        }
    }
}

/// A message of a conversation: a role and its content parts.
///
/// `Equatable` is written out by hand: Swift 6.3's optimizer crashes (SIL ownership
/// verifier) on the synthesized one when it specializes `Array<Message>.==`.
///
/// ```swift
/// let history: [Message] = [.user("What's the weather in Paris?")]
/// ```
public struct Message: Sendable, Hashable, Codable {
    /// Who wrote it.
    public var role: Role
    /// What it says, in order.
    public var content: [ContentPart]
    /// An optional participant name.
    public var name: String?

    public init(role: Role, content: [ContentPart], name: String? = nil) {
        self.role = role
        self.content = content
        self.name = name
    }

    /// A system message with `text`.
    public static func system(_ text: String) -> Message { Message(role: .system, content: [.text(text)]) }

    /// A user message with `text`.
    public static func user(_ text: String) -> Message { Message(role: .user, content: [.text(text)]) }

    /// An assistant message with optional `text` and tool calls.
    public static func assistant(_ text: String, toolCalls: [ToolCall] = []) -> Message {
        var parts: [ContentPart] = []
        parts.reserveCapacity(1 + toolCalls.count)
        if !text.isEmpty { parts.append(.text(text)) }
        for call in toolCalls { parts.append(.toolCall(call)) }
        return Message(role: .assistant, content: parts)
    }

    /// A tool message carrying one tool result.
    public static func tool(_ result: ToolResult) -> Message {
        Message(role: .tool, content: [.toolResult(result)])
    }

    public static func == (lhs: Message, rhs: Message) -> Bool {
        guard lhs.role == rhs.role, lhs.name == rhs.name, lhs.content.count == rhs.content.count else { return false }
        for i in lhs.content.indices where lhs.content[i] != rhs.content[i] { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(role)
        hasher.combine(name)
        hasher.combine(content)
    }

    /// All text parts joined.
    public var text: String {
        var out = ""
        for part in content {
            if case .text(let t) = part { out += t }
        }
        return out
    }

    /// The tool calls this message requests, in order.
    public var toolCalls: [ToolCall] {
        content.compactMap { if case .toolCall(let c) = $0 { return c } else { return nil } }
    }

    /// The tool results this message carries, in order.
    public var toolResults: [ToolResult] {
        content.compactMap { if case .toolResult(let r) = $0 { return r } else { return nil } }
    }
}
