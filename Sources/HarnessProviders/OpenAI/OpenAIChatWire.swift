//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// The OpenAI Chat Completions wire format (`/v1/chat/completions`), shared by every
/// OpenAI-compatible server.
public enum OpenAIChatWire {
    /// Which field carries the output token limit. OpenAI's reasoning models accept only
    /// `max_completion_tokens`; many compatible servers know only `max_tokens`.
    public enum MaxTokensField: String, Sendable, Hashable {
        case maxCompletionTokens = "max_completion_tokens"
        case maxTokens = "max_tokens"
    }

    /// The request body for `request`.
    public static func body(for request: ModelRequest, stream: Bool, maxTokensField: MaxTokensField = .maxCompletionTokens) -> JSONValue {
        var body: [String: JSONValue] = ["model": .string(request.model)]
        var messages: [JSONValue] = []
        if let system = request.system, !system.isEmpty {
            messages.append(["role": "system", "content": .string(system)])
        }
        for message in request.messages { messages.append(contentsOf: encode(message)) }
        body["messages"] = .array(messages)
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                [
                    "type": "function",
                    "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.inputSchema],
                ]
            })
            switch request.toolChoice {
            case .auto: body["tool_choice"] = "auto"
            case .none: body["tool_choice"] = "none"
            case .required: body["tool_choice"] = "required"
            case .tool(let name): body["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            }
        }
        switch request.responseFormat {
        case .text: break
        case .jsonObject: body["response_format"] = ["type": "json_object"]
        case .jsonSchema(let name, let schema, let strict):
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": .string(name), "schema": schema, "strict": .bool(strict)]]
        }
        let options = request.options
        if let t = options.temperature { body["temperature"] = .number(t) }
        if let p = options.topP { body["top_p"] = .number(p) }
        if let m = options.maxOutputTokens { body[maxTokensField.rawValue] = .integer(m) }
        if let s = options.seed { body["seed"] = .integer(s) }
        if !options.stopSequences.isEmpty { body["stop"] = .array(options.stopSequences.map { .string($0) }) }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return .object(body)
    }

    static func encode(_ message: Message) -> [JSONValue] {
        switch message.role {
        case .tool:
            return message.toolResults.map { result in
                ["role": "tool", "tool_call_id": .string(result.toolCallID), "content": .string(result.content)]
            }
        case .assistant:
            var out: [String: JSONValue] = ["role": "assistant"]
            let text = message.text
            out["content"] = text.isEmpty ? .null : .string(text)
            let calls = message.toolCalls
            if !calls.isEmpty {
                out["tool_calls"] = .array(calls.map { call in
                    ["id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.rawArguments)]]
                })
            }
            if let name = message.name { out["name"] = .string(name) }
            return [.object(out)]
        case .system, .user:
            var out: [String: JSONValue] = ["role": .string(message.role.rawValue)]
            let hasImage = message.content.contains { if case .image = $0 { true } else { false } }
            if hasImage {
                out["content"] = .array(message.content.compactMap { part in
                    switch part {
                    case .text(let t): return ["type": "text", "text": .string(t)]
                    case .image(let image):
                        guard let url = WireJSON.dataURL(image) else { return nil }
                        return ["type": "image_url", "image_url": ["url": .string(url)]]
                    case .toolCall, .toolResult: return nil
                    }
                })
            } else {
                out["content"] = .string(message.text)
            }
            if let name = message.name { out["name"] = .string(name) }
            return [.object(out)]
        }
    }

    /// The usage block of a response or final chunk. `prompt_tokens` already counts cached
    /// and cache-written tokens; `completion_tokens` counts reasoning tokens.
    public static func usage(_ json: JSONValue) -> Usage {
        Usage(
            inputTokens: json["prompt_tokens"]?.intValue ?? 0,
            outputTokens: json["completion_tokens"]?.intValue ?? 0,
            cacheReadTokens: json["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0,
            cacheWriteTokens: json["prompt_tokens_details"]?["cache_write_tokens"]?.intValue ?? 0,
            reasoningTokens: json["completion_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0
        )
    }

    /// An OpenAI `usage` object (valid JSON) as ``usage(_:)`` reads it: read in place when
    /// its counts are plain integers under plain keys, through a ``JSONValue`` otherwise.
    package static func usage(bytes: UnsafeBufferPointer<UInt8>) -> Usage {
        var usage = Usage.zero
        var scanner = JSONScanner(bytes)
        // A count: an integer is read (true); another kind of value counts 0, as from the
        // JSONValue, and is left to the scanner to skip (false).
        func read(_ s: inout JSONScanner, into field: inout Int) throws -> Bool {
            guard let b = s.peek(), b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) else {
                field = 0
                return false
            }
            guard let n = try s.intOrNull() else { throw s.fail("not a plain integer") }
            field = n
            return true
        }
        do {
            try scanner.object { s, key in
                guard !key.contains(UInt8(ascii: "\\")) else { throw s.fail("escaped key") }
                if key.equals("prompt_tokens") { return try read(&s, into: &usage.inputTokens) }
                if key.equals("completion_tokens") { return try read(&s, into: &usage.outputTokens) }
                let prompt = key.equals("prompt_tokens_details")
                guard prompt || key.equals("completion_tokens_details") else { return false }
                if prompt {
                    usage.cacheReadTokens = 0
                    usage.cacheWriteTokens = 0
                } else {
                    usage.reasoningTokens = 0
                }
                guard s.peek() == UInt8(ascii: "{") else { return false }
                try s.object { s, key in
                    guard !key.contains(UInt8(ascii: "\\")) else { throw s.fail("escaped key") }
                    if prompt, key.equals("cached_tokens") { return try read(&s, into: &usage.cacheReadTokens) }
                    if prompt, key.equals("cache_write_tokens") { return try read(&s, into: &usage.cacheWriteTokens) }
                    if !prompt, key.equals("reasoning_tokens") { return try read(&s, into: &usage.reasoningTokens) }
                    return false
                }
                return true
            }
        } catch {
            guard let json = try? JSONValue(parsingBytes: bytes, maxDepth: 512) else { return .zero }
            return OpenAIChatWire.usage(json)
        }
        return usage
    }

    /// A `finish_reason`.
    public static func finishReason(_ text: String?) -> FinishReason {
        switch text {
        case "stop", nil: .stop
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        case let other?: .other(other)
        }
    }

    /// A non-streamed response.
    public static func response(_ json: JSONValue, provider: String, requestID: String?) throws -> ModelResponse {
        if json["error"] != nil, json["choices"] == nil {
            throw ProviderError.inStream(json, provider: provider, requestID: requestID)
        }
        guard let choice = json["choices"]?[0], let message = choice["message"] else {
            throw WireJSON.missing("choices[0].message", provider: provider, requestID: requestID)
        }
        var text = message["content"]?.stringValue ?? ""
        var reason = finishReason(choice["finish_reason"]?.stringValue)
        if let refusal = message["refusal"]?.stringValue, !refusal.isEmpty {
            text += refusal
            reason = .other("refusal")
        }
        var calls: [ToolCall] = []
        for (i, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            let function = call["function"]
            let raw = function?["arguments"]?.stringValue ?? ""
            calls.append(ToolCall(
                id: call["id"]?.stringValue ?? "call_\(i)",
                name: function?["name"]?.stringValue ?? "",
                rawArguments: raw.allSatisfy(\.isWhitespace) ? "{}" : raw
            ))
        }
        return ModelResponse(
            message: .assistant(text, toolCalls: calls),
            finishReason: reason,
            usage: json["usage"].map(usage) ?? .zero,
            model: json["model"]?.stringValue,
            requestID: requestID ?? json["id"]?.stringValue
        )
    }
}

/// Maps a Chat Completions SSE stream to ModelStreamEvents.
///
/// Only choice 0 is followed (a request with `n` > 1 is not something an agent makes).
/// Tool calls are grouped by `tool_calls[].index` and complete when the choice's
/// `finish_reason` arrives; usage (the chunk with no choices that `include_usage` adds) is
/// delivered before `finish`, which comes at `data: [DONE]`. A body that ends before
/// `[DONE]` is an error.
///
/// Each chunk is read in place from the SSE bytes (no string per event); the strings it
/// yields are decoded from them with invalid UTF-8 replaced, as a decoded event's would be.
public struct OpenAIChatStreamMapper: WireEventMapper {
    private var sse = SSEDecoder()
    private var calls = ToolCallAssembler()
    private var finishReason: FinishReason?
    private var refused = false
    private var usage: Usage?
    private var done = false
    private let provider: String
    private var requestID: String?
    /// What the current chunk says; kept to reuse its storage.
    private var actions: [Action] = []

    public init(provider: String, requestID: String?) {
        self.provider = provider
        self.requestID = requestID
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ModelStreamEvent]) throws {
        // The decoder is taken out of `self` while it calls back into `handle`.
        var decoder = SSEDecoder()
        swap(&decoder, &sse)
        defer { swap(&decoder, &sse) }
        try decoder.feed(bytes) { event in try handle(event, into: &events) }
    }

    public mutating func finish(into events: inout [ModelStreamEvent]) throws {
        var decoder = SSEDecoder()
        swap(&decoder, &sse)
        defer { swap(&decoder, &sse) }
        try decoder.finish { event in try handle(event, into: &events) }
        guard done else { throw WireJSON.truncated("data: [DONE]", provider: provider, requestID: requestID) }
    }

    private mutating func handle(_ event: SSEEventView, into events: inout [ModelStreamEvent]) throws {
        guard !done else { return }
        if event.dataEquals("[DONE]") {
            guard let finishReason else {
                throw WireJSON.truncated("a chunk with finish_reason", provider: provider, requestID: requestID)
            }
            calls.completeAll(into: &events)
            if let usage { events.append(.usage(usage)) }
            events.append(.finish(refused ? .other("refusal") : finishReason, requestID: requestID))
            done = true
            return
        }
        if event.data.isEmpty { return }
        actions.removeAll(keepingCapacity: true)
        do {
            let readID = requestID == nil
            try event.data.withMemoryRebound(to: UInt8.self) { bytes in
                try Self.read(bytes, readID: readID, into: &actions)
            }
        } catch is JSONScanner.Failure {
            // The error names the offset in the text as decoded (invalid UTF-8 replaced), so
            // it is made from that text, as before.
            let text = event.data.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
            _ = try Self.read(text, provider: provider, requestID: requestID)
            throw ProviderError(.invalidResponse, provider: provider, message: "a stream chunk is not valid JSON", requestID: requestID)
        }
        for action in actions {
            switch action {
            case .id(let id): if requestID == nil { requestID = id }
            case .usage(let u): usage = u
            case .error(let json): throw ProviderError.inStream(json, provider: provider, requestID: requestID)
            case .text(let text): events.append(.textDelta(text))
            case .refusal(let text):
                refused = true
                events.append(.textDelta(text))
            case .toolCall(let index, let id, let name, let arguments):
                calls.add(index: index, id: id, name: name, arguments: arguments, into: &events)
            case .finish(let reason):
                finishReason = OpenAIChatWire.finishReason(reason)
                calls.completeAll(into: &events)
            }
        }
    }

    /// What one chunk says, in order.
    enum Action: Equatable {
        case id(String)
        case usage(Usage)
        case error(JSONValue)
        case text(String)
        case refusal(String)
        case toolCall(index: Int, id: String?, name: String?, arguments: String)
        case finish(String)
    }

    /// Reads a chunk given as text; see ``read(_:readID:into:)``.
    static func read(_ text: String, provider: String, requestID: String?) throws -> [Action] {
        var text = text
        var actions: [Action] = []
        do {
            try text.withUTF8 { buffer throws in try read(buffer, readID: true, into: &actions) }
        } catch let failure as JSONScanner.Failure {
            throw ProviderError(
                .invalidResponse,
                provider: provider,
                message: "a stream chunk is not valid JSON (invalid JSON at byte \(failure.offset): \(failure.message)): \(text.prefix(200))",
                requestID: requestID
            )
        }
        return actions
    }

    /// Reads a chunk with ``JSONScanner``: only `id` (when `readID`), `usage`, `error` and
    /// choice 0's delta and finish reason are decoded; everything else is validated and
    /// skipped. Appends to `actions`; throws ``JSONScanner/Failure``.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, readID: Bool, into actions: inout [Action]) throws {
        var scanner = JSONScanner(bytes)
        try scanner.object { s, key throws in
            if key.equals("choices") {
                try s.array { s throws in try readChoice(&s, into: &actions) }
            } else if key.equals("id") {
                if !readID {
                    try s.skipStringOrNull()
                } else if let id = try s.stringOrNull() {
                    actions.append(.id(id))
                }
            } else if key.equals("usage") {
                // Read in place (a stream's last chunk on every streamed request).
                s.skipWhitespace()
                let start = s.index
                try s.skipValue()
                if s.bytes[start] == UInt8(ascii: "{") {
                    actions.append(.usage(OpenAIChatWire.usage(bytes: UnsafeBufferPointer(rebasing: s.bytes[start..<s.index]))))
                }
            } else if key.equals("error") {
                let e = try s.value()
                if !e.isNull { actions.append(.error(["error": e])) }
            } else {
                return false
            }
            return true
        }
        try scanner.end()
    }

    /// Reads one choice, appending its deltas, then its (last) finish reason, when its
    /// `index` (wherever it stands in the object) is 0.
    private static func readChoice(_ s: inout JSONScanner, into actions: inout [Action]) throws {
        let start = actions.count
        var index = 0
        var finish: String?
        try s.object { s, key throws in
            if key.equals("index") {
                index = try s.intOrNull() ?? 0
            } else if key.equals("delta") {
                if try s.null() { return true }
                try s.object { s, key throws in
                    if key.equals("content") {
                        if let t = try s.stringOrNull(), !t.isEmpty { actions.append(.text(t)) }
                    } else if key.equals("refusal") {
                        if let t = try s.stringOrNull(), !t.isEmpty { actions.append(.refusal(t)) }
                    } else if key.equals("tool_calls") {
                        if try s.null() { return true }
                        try s.array { s throws in try readToolCall(&s, into: &actions) }
                    } else {
                        return false
                    }
                    return true
                }
            } else if key.equals("finish_reason") {
                if let reason = try s.stringOrNull() { finish = reason }
            } else {
                return false
            }
            return true
        }
        // Only choice 0 is followed; its finish reason comes after its deltas.
        guard index == 0 else {
            actions.removeSubrange(start...)
            return
        }
        if let finish { actions.append(.finish(finish)) }
    }

    private static func readToolCall(_ s: inout JSONScanner, into actions: inout [Action]) throws {
        var callIndex = 0
        var id: String?
        var name: String?
        var arguments = ""
        try s.object { s, key throws in
            if key.equals("index") {
                callIndex = try s.intOrNull() ?? 0
            } else if key.equals("id") {
                id = try s.stringOrNull()
            } else if key.equals("function") {
                if try s.null() { return true }
                try s.object { s, key throws in
                    if key.equals("name") {
                        name = try s.stringOrNull()
                    } else if key.equals("arguments") {
                        arguments = try s.stringOrNull() ?? ""
                    } else {
                        return false
                    }
                    return true
                }
            } else {
                return false
            }
            return true
        }
        actions.append(.toolCall(index: callIndex, id: id, name: name, arguments: arguments))
    }
}
