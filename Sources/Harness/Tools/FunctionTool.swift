//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// A ``Tool`` made from a closure.
///
/// ```swift
/// let add = FunctionTool(name: "add", description: "Adds two numbers",
///                        inputSchema: ["type": "object", "properties": ["a": ["type": "number"], "b": ["type": "number"]]],
///                        isReadOnly: true) { args, _ in
///     ToolOutput("\((args["a"]?.doubleValue ?? 0) + (args["b"]?.doubleValue ?? 0))")
/// }
/// ```
public struct FunctionTool: Tool {
    public let name: String
    public let description: String
    public let inputSchema: JSONValue
    public let isReadOnly: Bool
    public let timeout: Duration?
    let body: @Sendable (JSONValue, ToolContext) async throws -> ToolOutput

    public init(
        name: String,
        description: String,
        inputSchema: JSONValue = ["type": "object"],
        isReadOnly: Bool = false,
        timeout: Duration? = nil,
        body: @escaping @Sendable (_ arguments: JSONValue, _ context: ToolContext) async throws -> ToolOutput
    ) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
        self.isReadOnly = isReadOnly
        self.timeout = timeout
        self.body = body
    }

    public func invoke(arguments: JSONValue, context: ToolContext) async throws -> ToolOutput {
        try await body(arguments, context)
    }
}

/// An agent used as a tool by another agent: the sub-agent runs with the `input` argument,
/// one level deeper, and its final text is the tool's result. Runs nested deeper than the
/// sub-agent's ``RunPolicy/maxToolDepth`` stop at once, and the caller sees an error result.
public struct AgentTool: Tool {
    public let agent: Agent
    public let orchestrator: Orchestrator
    public let name: String
    public let description: String

    public init(agent: Agent, orchestrator: Orchestrator, name: String? = nil, description: String? = nil) {
        self.agent = agent
        self.orchestrator = orchestrator
        self.name = name ?? agent.name
        self.description = description ?? "Ask the agent '\(agent.name)'."
    }

    public var inputSchema: JSONValue {
        [
            "type": "object",
            "properties": ["input": ["type": "string", "description": "What to ask."]],
            "required": ["input"],
        ]
    }

    public func invoke(arguments: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let input = arguments["input"]?.stringValue ?? arguments.canonicalString
        let result = try await orchestrator.run(
            agent, input: input,
            options: RunOptions(metadata: context.metadata, depth: context.depth + 1)
        )
        if result.stopReason == .maxToolDepth {
            return ToolOutput("Error: \(result.stopDetail ?? "tool depth exceeded")", isError: true)
        }
        return ToolOutput(result.finalText, isError: !result.isComplete && result.finalText.isEmpty)
    }
}
