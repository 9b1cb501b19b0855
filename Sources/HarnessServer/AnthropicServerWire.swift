//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
public import HarnessCore

/// The server side of the Anthropic Messages format (`/v1/messages`).
public enum AnthropicServerWire {
    /// Reads a `/v1/messages` body.
    public static func request(_ json: JSONValue) throws -> GatewayRequest {
        let root = FieldReader(json, path: "")
        let model = try root.required("model").string()
        guard !model.isEmpty else { throw GatewayError.invalid("model", "must not be empty") }
        let maxTokens = try root.required("max_tokens").int()
        guard maxTokens >= 1 else { throw GatewayError.invalid("max_tokens", "must be at least 1") }
        let messageReaders = try root.required("messages").array()
        guard !messageReaders.isEmpty else { throw GatewayError.invalid("messages", "must hold at least one message") }

        var system: String? = nil
        if let s = root.child("system") {
            if case .string(let text) = s.value {
                system = text
            } else {
                system = try s.array().map { block in
                    let type = try block.required("type").string()
                    guard type == "text" else { throw GatewayError.invalid("\(block.path).type", "must be 'text' (not '\(type)')") }
                    return try block.required("text").string()
                }.joined(separator: "\n\n")
            }
        }

        var messages: [Message] = []
        var toolNames: [String: String] = [:]
        for reader in messageReaders {
            let role = try reader.required("role").string()
            guard role == "user" || role == "assistant" else {
                throw GatewayError.invalid("\(reader.path).role", "must be user or assistant (not '\(role)')")
            }
            let content = try reader.required("content")
            if case .string(let text) = content.value {
                messages.append(Message(role: role == "user" ? .user : .assistant, content: [.text(text)]))
                continue
            }
            var parts: [ContentPart] = []
            var results: [ToolResult] = []
            for block in try content.array() {
                let type = try block.required("type").string()
                switch type {
                case "text":
                    parts.append(.text(try block.required("text").string()))
                case "image":
                    let source = try block.required("source")
                    let kind = try source.required("type").string()
                    if kind == "url" {
                        parts.append(.image(ImageContent(url: try source.required("url").string())))
                    } else {
                        parts.append(.image(ImageContent(
                            base64Data: try source.required("data").string(),
                            mediaType: try source.required("media_type").string()
                        )))
                    }
                case "tool_use":
                    guard role == "assistant" else { throw GatewayError.invalid("\(block.path).type", "tool_use belongs in an assistant message") }
                    let id = try block.required("id").string()
                    let name = try block.required("name").string()
                    let input = block.child("input")?.value ?? .object([:])
                    toolNames[id] = name
                    parts.append(.toolCall(ToolCall(id: id, name: name, rawArguments: input.canonicalString)))
                case "tool_result":
                    guard role == "user" else { throw GatewayError.invalid("\(block.path).type", "tool_result belongs in a user message") }
                    let id = try block.required("tool_use_id").string()
                    var text = ""
                    if let c = block.child("content") {
                        text = try OpenAIServerWire.textContent(c, path: c.path)
                    }
                    results.append(ToolResult(toolCallID: id, name: toolNames[id] ?? "", content: text, isError: try block.child("is_error")?.bool() ?? false))
                case "thinking", "redacted_thinking":
                    continue
                default:
                    throw GatewayError.invalid("\(block.path).type", "must be text, image, tool_use or tool_result (not '\(type)')")
                }
            }
            for result in results { messages.append(.tool(result)) }
            if !parts.isEmpty || results.isEmpty {
                messages.append(Message(role: role == "user" ? .user : .assistant, content: parts))
            }
        }

        var tools: [ToolSpec] = []
        if let list = root.child("tools") {
            for tool in try list.array() {
                let name = try tool.required("name").string()
                guard !name.isEmpty else { throw GatewayError.invalid("\(tool.path).name", "must not be empty") }
                let schema = try tool.required("input_schema")
                _ = try schema.object()
                tools.append(ToolSpec(name: name, description: try tool.child("description")?.string() ?? "", inputSchema: schema.value))
            }
        }
        var toolChoice = ToolChoice.auto
        if let choice = root.child("tool_choice") {
            let type = try choice.required("type").string()
            switch type {
            case "auto": toolChoice = .auto
            case "any": toolChoice = .required
            case "none": toolChoice = .none
            case "tool":
                let name = try choice.required("name").string()
                guard tools.contains(where: { $0.name == name }) else {
                    throw GatewayError.invalid("tool_choice.name", "names '\(name)', which is not among the tools")
                }
                toolChoice = .tool(name)
            default: throw GatewayError.invalid("tool_choice.type", "must be auto, any, tool or none (not '\(type)')")
            }
        }

        var options = GenerationOptions()
        options.maxOutputTokens = maxTokens
        options.temperature = try root.child("temperature")?.double()
        options.topP = try root.child("top_p")?.double()
        options.stopSequences = try root.child("stop_sequences")?.array().map { try $0.string() } ?? []
        var metadata: [String: String] = [:]
        if let user = try root.child("metadata")?.child("user_id")?.string() { metadata["user"] = user }
        let request = ModelRequest(
            model: model, system: system, messages: messages, tools: tools, toolChoice: toolChoice,
            options: options, metadata: metadata
        )
        return GatewayRequest(model: request, stream: try root.child("stream")?.bool() ?? false)
    }

    static func stopReason(_ reason: FinishReason) -> String {
        switch reason {
        case .stop: "end_turn"
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "refusal"
        case .other(let s): s == "refusal" ? "refusal" : "end_turn"
        }
    }

    /// Anthropic counts `input_tokens` without the tokens read from or written to its cache.
    static func writeUsage(_ usage: Usage, into w: inout JSONWriter) {
        w.object { w in
            w.key("input_tokens"); w.int(max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens))
            w.key("output_tokens"); w.int(usage.outputTokens)
            w.key("cache_creation_input_tokens"); w.int(usage.cacheWriteTokens)
            w.key("cache_read_input_tokens"); w.int(usage.cacheReadTokens)
        }
    }

    static func writeToolInput(_ call: ToolCall, into w: inout JSONWriter) {
        if case .object? = call.arguments, let args = call.arguments {
            w.json(args)
        } else if let parsed = try? JSONValue(parsing: call.rawArguments), case .object = parsed {
            w.json(parsed)
        } else {
            w.object { _ in }
        }
    }

    /// A `message` object.
    public static func response(_ response: ModelResponse, id: String, model: String) -> [UInt8] {
        var w = JSONWriter(capacity: 384 + response.message.text.utf8.count)
        w.object { w in
            w.key("id"); w.string(id)
            w.key("type"); w.string("message")
            w.key("role"); w.string("assistant")
            w.key("model"); w.string(model)
            w.key("content")
            w.array { w in
                for part in response.message.content {
                    switch part {
                    case .text(let t):
                        w.object { w in
                            w.key("type"); w.string("text")
                            w.key("text"); w.string(t)
                        }
                    case .toolCall(let call):
                        w.object { w in
                            w.key("type"); w.string("tool_use")
                            w.key("id"); w.string(call.id)
                            w.key("name"); w.string(call.name)
                            w.key("input"); writeToolInput(call, into: &w)
                        }
                    case .image, .toolResult: break
                    }
                }
            }
            w.key("stop_reason"); w.string(stopReason(response.finishReason))
            w.key("stop_sequence"); w.null()
            w.key("usage"); writeUsage(response.usage, into: &w)
        }
        return w.bytes
    }
}
