//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// What a tool knows about the call it is serving.
public struct ToolContext: Sendable {
    /// The id of the run that called the tool.
    public var runID: String
    /// The id of this tool call.
    public var toolCallID: String
    /// The conversation the run belongs to, if any.
    public var conversationID: String?
    /// The nesting depth: 0 for a top-level run, 1 for a run started by a tool of it, and so on.
    public var depth: Int
    /// Metadata of the run.
    public var metadata: [String: String]

    public init(
        runID: String,
        toolCallID: String,
        conversationID: String? = nil,
        depth: Int = 0,
        metadata: [String: String] = [:]
    ) {
        self.runID = runID
        self.toolCallID = toolCallID
        self.conversationID = conversationID
        self.depth = depth
        self.metadata = metadata
    }
}

/// What a tool returns: text for the model, and whether it reports a failure.
public struct ToolOutput: Sendable, Hashable, Codable {
    /// The result as text the model reads (JSON text for structured results).
    public var content: String
    /// Whether the tool reports a failure the model should see as one.
    public var isError: Bool

    public init(_ content: String, isError: Bool = false) {
        self.content = content
        self.isError = isError
    }

    /// A structured result, sent to the model as canonical JSON text.
    public init(json: JSONValue) {
        self.content = json.canonicalString
        self.isError = false
    }
}

/// A tool a model can call.
///
/// ## Implementation requirements
/// - `invoke` may be called concurrently for different calls.
/// - Honour task cancellation: the orchestrator cancels a tool at its timeout or when the
///   run is cancelled. A tool that ignores cancellation is abandoned at its timeout (the run
///   goes on without it), but a tool that blocks its thread without ever suspending cannot
///   be interrupted: run blocking work on a thread of its own (a Dispatch queue) and await it.
/// - A thrown error becomes an error result the model sees; it never ends the run.
/// - Declare `isReadOnly` only for tools without side effects: they may be started early
///   (while the model is still streaming) and their results cached.
public protocol Tool: Sendable {
    /// The name the model calls the tool by.
    var name: String { get }
    /// What the tool does, for the model.
    var description: String { get }
    /// The JSON Schema of the arguments.
    var inputSchema: JSONValue { get }
    /// Whether the tool has no side effects (safe to run early, retry and cache).
    var isReadOnly: Bool { get }
    /// The longest the tool may run; `nil` uses the run policy's default.
    var timeout: Duration? { get }

    /// Runs the tool.
    func invoke(arguments: JSONValue, context: ToolContext) async throws -> ToolOutput
}

extension Tool {
    public var isReadOnly: Bool { false }
    public var timeout: Duration? { nil }
    public var inputSchema: JSONValue { ["type": "object"] }

    /// The spec a model sees.
    public var spec: ToolSpec { ToolSpec(name: name, description: description, inputSchema: inputSchema) }
}
