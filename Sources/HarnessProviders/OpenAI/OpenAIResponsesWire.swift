//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// The OpenAI Responses wire format (`/v1/responses`).
///
/// Requests are stateless (`store: false`): the whole conversation is sent as input items
/// each time, as the Chat Completions adapter does, so that a stored conversation of ours
/// stays the one source of truth.
public enum OpenAIResponsesWire {
    /// The request body for `request`.
    public static func body(for request: ModelRequest, stream: Bool) -> JSONValue {
        var body: [String: JSONValue] = ["model": .string(request.model), "store": false]
        if let system = request.system, !system.isEmpty { body["instructions"] = .string(system) }
        var input: [JSONValue] = []
        for message in request.messages { input.append(contentsOf: encode(message)) }
        body["input"] = .array(input)
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                // `strict` defaults to true on this API, which only accepts closed schemas; ours
                // are any JSON Schema, checked on our side.
                ["type": "function", "name": .string(tool.name), "description": .string(tool.description), "parameters": tool.inputSchema, "strict": false]
            })
            switch request.toolChoice {
            case .auto: body["tool_choice"] = "auto"
            case .none: body["tool_choice"] = "none"
            case .required: body["tool_choice"] = "required"
            case .tool(let name): body["tool_choice"] = ["type": "function", "name": .string(name)]
            }
        }
        switch request.responseFormat {
        case .text: break
        case .jsonObject: body["text"] = ["format": ["type": "json_object"]]
        case .jsonSchema(let name, let schema, let strict):
            body["text"] = ["format": ["type": "json_schema", "name": .string(name), "schema": schema, "strict": .bool(strict)]]
        }
        let options = request.options
        if let t = options.temperature { body["temperature"] = .number(t) }
        if let p = options.topP { body["top_p"] = .number(p) }
        if let m = options.maxOutputTokens { body["max_output_tokens"] = .integer(m) }
        if stream { body["stream"] = true }
        return .object(body)
    }

    static func encode(_ message: Message) -> [JSONValue] {
        switch message.role {
        case .tool:
            return message.toolResults.map { result in
                ["type": "function_call_output", "call_id": .string(result.toolCallID), "output": .string(result.content)]
            }
        case .assistant:
            var items: [JSONValue] = []
            let text = message.text
            if !text.isEmpty {
                items.append(["type": "message", "role": "assistant", "content": .string(text)])
            }
            for call in message.toolCalls {
                items.append(["type": "function_call", "call_id": .string(call.id), "name": .string(call.name), "arguments": .string(call.rawArguments)])
            }
            return items
        case .system, .user:
            let role: JSONValue = message.role == .system ? "developer" : "user"
            let hasImage = message.content.contains { if case .image = $0 { true } else { false } }
            guard hasImage else { return [["type": "message", "role": role, "content": .string(message.text)]] }
            let parts: [JSONValue] = message.content.compactMap { part in
                switch part {
                case .text(let t): return ["type": "input_text", "text": .string(t)]
                case .image(let image):
                    guard let url = WireJSON.dataURL(image) else { return nil }
                    return ["type": "input_image", "image_url": .string(url), "detail": "auto"]
                case .toolCall, .toolResult: return nil
                }
            }
            return [["type": "message", "role": role, "content": .array(parts)]]
        }
    }

    /// The usage block of a response.
    public static func usage(_ json: JSONValue) -> Usage {
        Usage(
            inputTokens: json["input_tokens"]?.intValue ?? 0,
            outputTokens: json["output_tokens"]?.intValue ?? 0,
            cacheReadTokens: json["input_tokens_details"]?["cached_tokens"]?.intValue ?? 0,
            cacheWriteTokens: json["input_tokens_details"]?["cache_write_tokens"]?.intValue ?? 0,
            reasoningTokens: json["output_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0
        )
    }

    /// Why a response ended, from its status, its incomplete details and whether it called tools.
    static func finishReason(_ response: JSONValue, calledTools: Bool, refused: Bool) -> FinishReason {
        if response["status"]?.stringValue == "incomplete" {
            switch response["incomplete_details"]?["reason"]?.stringValue {
            case "max_output_tokens": return .length
            case "content_filter": return .contentFilter
            case let other: return .other(other ?? "incomplete")
            }
        }
        if refused { return .other("refusal") }
        return calledTools ? .toolCalls : .stop
    }

    /// The error of a `failed` response.
    static func failure(_ response: JSONValue, provider: String, requestID: String?) -> ProviderError {
        let error = response["error"] ?? [:]
        var e = ProviderError.inStream(["error": error], provider: provider, requestID: requestID)
        if error["code"]?.stringValue == "server_error" { e.code = .server }
        if error["code"]?.stringValue == "rate_limit_exceeded" { e.code = .rateLimited }
        return e
    }

    /// A non-streamed response.
    public static func response(_ json: JSONValue, provider: String, requestID: String?) throws -> ModelResponse {
        if json["status"]?.stringValue == "failed" { throw failure(json, provider: provider, requestID: requestID) }
        guard let output = json["output"]?.arrayValue else {
            if json["error"] != nil { throw ProviderError.inStream(json, provider: provider, requestID: requestID) }
            throw WireJSON.missing("output", provider: provider, requestID: requestID)
        }
        var text = ""
        var refused = false
        var calls: [ToolCall] = []
        for item in output {
            switch item["type"]?.stringValue {
            case "message":
                for part in item["content"]?.arrayValue ?? [] {
                    if part["type"]?.stringValue == "output_text" { text += part["text"]?.stringValue ?? "" }
                    if part["type"]?.stringValue == "refusal" {
                        text += part["refusal"]?.stringValue ?? ""
                        refused = true
                    }
                }
            case "function_call":
                let raw = item["arguments"]?.stringValue ?? ""
                calls.append(ToolCall(
                    id: item["call_id"]?.stringValue ?? item["id"]?.stringValue ?? "call_\(calls.count)",
                    name: item["name"]?.stringValue ?? "",
                    rawArguments: raw.allSatisfy(\.isWhitespace) ? "{}" : raw
                ))
            default:
                break  // reasoning and built-in tool items are not part of the answer
            }
        }
        return ModelResponse(
            message: .assistant(text, toolCalls: calls),
            finishReason: finishReason(json, calledTools: !calls.isEmpty, refused: refused),
            usage: json["usage"].map(usage) ?? .zero,
            model: json["model"]?.stringValue,
            requestID: requestID ?? json["id"]?.stringValue
        )
    }
}

/// Maps a Responses SSE stream to ModelStreamEvents.
///
/// Text comes from `response.output_text.delta` (and `response.refusal.delta`); a function
/// call starts at `response.output_item.added`, grows with
/// `response.function_call_arguments.delta`, and completes at `response.output_item.done`.
/// The final event is `response.completed` (or `response.incomplete`; `response.failed` and
/// `error` throw). A body that ends before it is an error.
public struct OpenAIResponsesStreamMapper: WireEventMapper {
    private var sse = SSEDecoder()
    private var calls = ToolCallAssembler()
    private var callIDs: [String: String] = [:]  // item id → call id
    private var calledTools = false
    private var refused = false
    private var done = false
    private let provider: String
    private var requestID: String?

    public init(provider: String, requestID: String?) {
        self.provider = provider
        self.requestID = requestID
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ModelStreamEvent]) throws {
        for event in sse.feed(bytes) { try handle(event, into: &events) }
    }

    public mutating func finish(into events: inout [ModelStreamEvent]) throws {
        for event in sse.finish() { try handle(event, into: &events) }
        guard done else { throw WireJSON.truncated("response.completed", provider: provider, requestID: requestID) }
    }

    private mutating func handle(_ event: ServerSentEvent, into events: inout [ModelStreamEvent]) throws {
        guard !done, !event.data.isEmpty else { return }
        let json = try WireJSON.parse(event.data, provider: provider, requestID: requestID, what: "a stream event")
        let type = json["type"]?.stringValue ?? event.type
        switch type {
        case "response.output_text.delta":
            if let delta = json["delta"]?.stringValue, !delta.isEmpty { events.append(.textDelta(delta)) }
        case "response.refusal.delta":
            if let delta = json["delta"]?.stringValue, !delta.isEmpty {
                refused = true
                events.append(.textDelta(delta))
            }
        case "response.output_item.added":
            guard let item = json["item"], item["type"]?.stringValue == "function_call" else { return }
            let key = item["id"]?.stringValue ?? "output-\(json["output_index"]?.intValue ?? 0)"
            calledTools = true
            calls.add(
                key: key,
                id: item["call_id"]?.stringValue,
                name: item["name"]?.stringValue,
                arguments: item["arguments"]?.stringValue ?? "",
                into: &events
            )
        case "response.function_call_arguments.delta":
            let key = json["item_id"]?.stringValue ?? "output-\(json["output_index"]?.intValue ?? 0)"
            calls.add(key: key, arguments: json["delta"]?.stringValue ?? "", into: &events)
        case "response.output_item.done":
            guard let item = json["item"], item["type"]?.stringValue == "function_call" else { return }
            let key = item["id"]?.stringValue ?? "output-\(json["output_index"]?.intValue ?? 0)"
            calls.complete(key: key, into: &events)
        case "response.completed", "response.incomplete":
            let response = json["response"] ?? [:]
            calls.completeAll(into: &events)
            if let u = response["usage"], u.objectValue != nil { events.append(.usage(OpenAIResponsesWire.usage(u))) }
            if requestID == nil { requestID = response["id"]?.stringValue }
            events.append(.finish(
                OpenAIResponsesWire.finishReason(response, calledTools: calledTools, refused: refused),
                requestID: requestID
            ))
            done = true
        case "response.failed":
            throw OpenAIResponsesWire.failure(json["response"] ?? [:], provider: provider, requestID: requestID)
        case "error":
            throw ProviderError.inStream(["error": json], provider: provider, requestID: requestID)
        default:
            break
        }
    }
}
