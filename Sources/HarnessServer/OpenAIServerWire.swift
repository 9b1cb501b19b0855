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

/// The server side of the OpenAI Chat Completions format: requests from clients into
/// ``GatewayRequest``s, and answers back into `chat.completion` objects and
/// `chat.completion.chunk` events.
public enum OpenAIServerWire {
    /// Reads a `/v1/chat/completions` body.
    public static func request(_ json: JSONValue) throws -> GatewayRequest {
        let root = FieldReader(json, path: "")
        let model = try root.required("model").string()
        guard !model.isEmpty else { throw GatewayError.invalid("model", "must not be empty") }
        let messageReaders = try root.required("messages").array()
        guard !messageReaders.isEmpty else { throw GatewayError.invalid("messages", "must hold at least one message") }

        var system: [String] = []
        var messages: [Message] = []
        var toolNames: [String: String] = [:]
        for reader in messageReaders {
            let role = try reader.required("role").string()
            switch role {
            case "system", "developer":
                let text = try textContent(reader.child("content"), path: "\(reader.path).content")
                if messages.isEmpty { system.append(text) } else { messages.append(.system(text)) }
            case "user":
                guard let content = reader.child("content") else { throw GatewayError.missing("\(reader.path).content") }
                messages.append(Message(role: .user, content: try userContent(content), name: try reader.child("name")?.string()))
            case "assistant":
                var parts: [ContentPart] = []
                if let content = reader.child("content") {
                    let text = try textContent(content, path: content.path)
                    if !text.isEmpty { parts.append(.text(text)) }
                }
                if let calls = reader.child("tool_calls") {
                    for call in try calls.array() {
                        let id = try call.required("id").string()
                        let function = try call.required("function")
                        let name = try function.required("name").string()
                        let arguments = try function.child("arguments")?.string() ?? "{}"
                        toolNames[id] = name
                        parts.append(.toolCall(ToolCall(id: id, name: name, rawArguments: arguments)))
                    }
                }
                messages.append(Message(role: .assistant, content: parts))
            case "tool":
                let id = try reader.required("tool_call_id").string()
                let text = try textContent(reader.child("content"), path: "\(reader.path).content")
                messages.append(.tool(ToolResult(toolCallID: id, name: toolNames[id] ?? "", content: text)))
            default:
                throw GatewayError.invalid("\(reader.path).role", "must be one of system, developer, user, assistant, tool (not '\(role)')")
            }
        }

        var tools: [ToolSpec] = []
        if let toolList = root.child("tools") {
            for tool in try toolList.array() {
                let type = try tool.child("type")?.string() ?? "function"
                guard type == "function" else { throw GatewayError.invalid("\(tool.path).type", "must be 'function' (not '\(type)')") }
                let function = try tool.required("function")
                let name = try function.required("name").string()
                guard !name.isEmpty else { throw GatewayError.invalid("\(function.path).name", "must not be empty") }
                let parameters = function.child("parameters")?.value ?? ["type": "object", "properties": [:]]
                tools.append(ToolSpec(name: name, description: try function.child("description")?.string() ?? "", inputSchema: parameters))
            }
        }

        var toolChoice = ToolChoice.auto
        if let choice = root.child("tool_choice") {
            if case .string(let s) = choice.value {
                switch s {
                case "auto": toolChoice = .auto
                case "none": toolChoice = .none
                case "required": toolChoice = .required
                default: throw GatewayError.invalid("tool_choice", "must be auto, none, required or {\"type\": \"function\", \"function\": {\"name\": …}} (not '\(s)')")
                }
            } else {
                let name = try choice.required("function").required("name").string()
                guard tools.contains(where: { $0.name == name }) else {
                    throw GatewayError.invalid("tool_choice.function.name", "names '\(name)', which is not among the tools")
                }
                toolChoice = .tool(name)
            }
        }

        var format = ResponseFormat.text
        if let rf = root.child("response_format") {
            let type = try rf.required("type").string()
            switch type {
            case "text": format = .text
            case "json_object": format = .jsonObject
            case "json_schema":
                let spec = try rf.required("json_schema")
                let name = try spec.child("name")?.string() ?? "response"
                guard let schema = spec.child("schema") else { throw GatewayError.missing("response_format.json_schema.schema") }
                _ = try schema.object()
                format = .jsonSchema(name: name, schema: schema.value, strict: try spec.child("strict")?.bool() ?? false)
            default:
                throw GatewayError.invalid("response_format.type", "must be text, json_object or json_schema (not '\(type)')")
            }
        }

        var options = GenerationOptions()
        options.temperature = try root.child("temperature")?.double()
        options.topP = try root.child("top_p")?.double()
        options.maxOutputTokens = try (root.child("max_completion_tokens") ?? root.child("max_tokens"))?.int()
        if let m = options.maxOutputTokens, m < 1 { throw GatewayError.invalid("max_tokens", "must be at least 1") }
        options.seed = try root.child("seed")?.int()
        options.stopSequences = try root.child("stop")?.strings() ?? []
        if let n = try root.child("n")?.int(), n != 1 {
            throw GatewayError.invalid("n", "must be 1: the gateway returns one choice (got \(n))")
        }
        var metadata: [String: String] = [:]
        if let user = try root.child("user")?.string() { metadata["user"] = user }

        let stream = try root.child("stream")?.bool() ?? false
        let includeUsage = try root.child("stream_options")?.child("include_usage")?.bool() ?? false
        let request = ModelRequest(
            model: model,
            system: system.isEmpty ? nil : system.joined(separator: "\n\n"),
            messages: messages,
            tools: tools,
            toolChoice: toolChoice,
            responseFormat: format,
            options: options,
            metadata: metadata
        )
        return GatewayRequest(model: request, stream: stream, includeUsage: includeUsage)
    }

    /// Text from a string, `null`, or an array of `{"type": "text", "text": …}` parts.
    static func textContent(_ reader: FieldReader?, path: String) throws -> String {
        guard let reader else { return "" }
        if case .string(let s) = reader.value { return s }
        var text = ""
        for part in try reader.array() {
            let type = try part.required("type").string()
            guard type == "text" else { throw GatewayError.invalid("\(part.path).type", "must be 'text' here (not '\(type)')") }
            text += try part.required("text").string()
        }
        return text
    }

    static func userContent(_ reader: FieldReader) throws -> [ContentPart] {
        if case .string(let s) = reader.value { return [.text(s)] }
        var parts: [ContentPart] = []
        for part in try reader.array() {
            let type = try part.required("type").string()
            switch type {
            case "text": parts.append(.text(try part.required("text").string()))
            case "image_url":
                let url = try part.required("image_url").required("url").string()
                parts.append(.image(ImageContent.fromURL(url)))
            default:
                throw GatewayError.invalid("\(part.path).type", "must be text or image_url (not '\(type)')")
            }
        }
        return parts
    }

    // MARK: - Answers

    static func finishReason(_ reason: FinishReason) -> String {
        switch reason {
        case .stop: "stop"
        case .length: "length"
        case .toolCalls: "tool_calls"
        case .contentFilter: "content_filter"
        case .other(let s): s == "refusal" ? "stop" : s
        }
    }

    static func writeUsage(_ usage: Usage, into w: inout JSONWriter) {
        w.object { w in
            w.key("prompt_tokens"); w.int(usage.inputTokens)
            w.key("completion_tokens"); w.int(usage.outputTokens)
            w.key("total_tokens"); w.int(usage.totalTokens)
            w.key("prompt_tokens_details")
            w.object { w in
                w.key("cached_tokens"); w.int(usage.cacheReadTokens)
                if usage.cacheWriteTokens > 0 { w.key("cache_write_tokens"); w.int(usage.cacheWriteTokens) }
            }
            w.key("completion_tokens_details")
            w.object { w in w.key("reasoning_tokens"); w.int(usage.reasoningTokens) }
        }
    }

    /// A `chat.completion` object.
    public static func response(_ response: ModelResponse, id: String, model: String, created: Int) -> [UInt8] {
        var w = JSONWriter(capacity: 384 + response.message.text.utf8.count)
        w.object { w in
            w.key("id"); w.string(id)
            w.key("object"); w.string("chat.completion")
            w.key("created"); w.int(created)
            w.key("model"); w.string(model)
            w.key("choices")
            w.array { w in
                w.object { w in
                    w.key("index"); w.int(0)
                    w.key("message")
                    w.object { w in
                        w.key("role"); w.string("assistant")
                        let text = response.message.text
                        w.key("content")
                        if text.isEmpty && !response.message.toolCalls.isEmpty { w.null() } else { w.string(text) }
                        w.key("refusal"); w.null()
                        let calls = response.message.toolCalls
                        if !calls.isEmpty {
                            w.key("tool_calls")
                            w.array { w in
                                for call in calls {
                                    w.object { w in
                                        w.key("id"); w.string(call.id)
                                        w.key("type"); w.string("function")
                                        w.key("function")
                                        w.object { w in
                                            w.key("name"); w.string(call.name)
                                            w.key("arguments"); w.string(call.rawArguments)
                                        }
                                    }
                                }
                            }
                        }
                    }
                    w.key("logprobs"); w.null()
                    w.key("finish_reason"); w.string(finishReason(response.finishReason))
                }
            }
            w.key("usage"); writeUsage(response.usage, into: &w)
        }
        return w.bytes
    }
}

extension ImageContent {
    /// An image from an OpenAI `image_url`: a `data:` URL is split into media type and data.
    static func fromURL(_ url: String) -> ImageContent {
        if url.hasPrefix("data:"), let comma = url.firstIndex(of: ","), let semi = url[..<comma].firstIndex(of: ";") {
            let media = String(url[url.index(url.startIndex, offsetBy: 5)..<semi])
            return ImageContent(base64Data: String(url[url.index(after: comma)...]), mediaType: media)
        }
        return ImageContent(url: url)
    }
}
