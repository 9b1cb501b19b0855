//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A call of a tool requested by a model.
///
/// `rawArguments` is the argument text exactly as the model produced it; `arguments` is
/// the parsed value when that text is valid JSON, and `nil` otherwise (a call with
/// arguments that do not parse is never executed).
public struct ToolCall: Sendable, Hashable, Codable {
    /// The provider's id for the call; tool results are paired with calls by this id.
    public var id: String
    /// The name of the tool to call.
    public var name: String
    /// The arguments as the model wrote them.
    public var rawArguments: String
    /// The parsed arguments, or `nil` if `rawArguments` is not valid JSON.
    public var arguments: JSONValue?

    /// Creates a call from raw argument text, parsing it strictly.
    public init(id: String, name: String, rawArguments: String) {
        self.id = id
        self.name = name
        self.rawArguments = rawArguments
        let trimmed = rawArguments.isEmpty ? "{}" : rawArguments
        self.arguments = try? JSONValue(parsing: trimmed)
    }

    /// Creates a call from parsed arguments.
    public init(id: String, name: String, arguments: JSONValue) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.rawArguments = arguments.canonicalString
    }
}

/// The result of a tool call, sent back to the model.
public struct ToolResult: Sendable, Hashable, Codable {
    /// The id of the call this answers.
    public var toolCallID: String
    /// The tool's name.
    public var name: String
    /// What the tool returned, as text the model reads.
    public var content: String
    /// Whether this reports a failure (unknown tool, invalid arguments, error, timeout).
    public var isError: Bool

    public init(toolCallID: String, name: String, content: String, isError: Bool = false) {
        self.toolCallID = toolCallID
        self.name = name
        self.content = content
        self.isError = isError
    }
}

/// What a model may see of a tool: its name, description and input JSON Schema.
public struct ToolSpec: Sendable, Hashable, Codable {
    /// The tool's name, unique within a request.
    public var name: String
    /// What the tool does, for the model.
    public var description: String
    /// The JSON Schema of the tool's arguments.
    public var inputSchema: JSONValue

    public init(name: String, description: String, inputSchema: JSONValue = ["type": "object"]) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }
}

/// Whether and which tool the model must call.
public enum ToolChoice: Sendable, Hashable, Codable {
    /// The model decides.
    case auto
    /// The model must not call tools.
    case none
    /// The model must call at least one tool.
    case required
    /// The model must call the named tool.
    case tool(String)
}
