//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Ollama's native chat API (`POST /api/chat`), streamed as newline-delimited JSON.
public enum OllamaWire {
    /// The `think` field of models that reason (qwen3, deepseek-r1, gpt-oss…).
    public enum Thinking: Sendable, Hashable {
        case enabled(Bool)
        /// `low`, `medium` or `high`, for the models that take a level (gpt-oss).
        case level(String)

        var json: JSONValue {
            switch self {
            case .enabled(let on): .bool(on)
            case .level(let level): .string(level)
            }
        }
    }

    /// The request body for `request`.
    ///
    /// Ollama has no `tool_choice`: `.none` sends no tools, `.tool(name)` sends only that
    /// tool, and `.required` sends them all (the model may still answer in text). Images must
    /// be bytes (base64 or a `data:` URL): Ollama does not fetch URLs, so an `https:` image is
    /// an `invalidRequest` error.
    public static func body(
        for request: ModelRequest,
        stream: Bool,
        provider: String = "ollama",
        think: Thinking? = nil,
        keepAlive: String? = nil
    ) throws -> JSONValue {
        var body: [String: JSONValue] = ["model": .string(request.model), "stream": .bool(stream)]
        var messages: [JSONValue] = []
        if let system = request.system, !system.isEmpty {
            messages.append(["role": "system", "content": .string(system)])
        }
        for message in request.messages { messages.append(contentsOf: try encode(message, provider: provider)) }
        body["messages"] = .array(messages)

        var tools = request.tools
        switch request.toolChoice {
        case .auto, .required: break
        case .none: tools = []
        case .tool(let name): tools = tools.filter { $0.name == name }
        }
        if !tools.isEmpty {
            body["tools"] = .array(tools.map { tool in
                [
                    "type": "function",
                    "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.inputSchema],
                ]
            })
        }
        switch request.responseFormat {
        case .text: break
        case .jsonObject: body["format"] = "json"
        case .jsonSchema(_, let schema, _): body["format"] = schema
        }
        var options: [String: JSONValue] = [:]
        let o = request.options
        if let t = o.temperature { options["temperature"] = .number(t) }
        if let p = o.topP { options["top_p"] = .number(p) }
        if let m = o.maxOutputTokens { options["num_predict"] = .integer(m) }
        if let s = o.seed { options["seed"] = .integer(s) }
        if !o.stopSequences.isEmpty { options["stop"] = .array(o.stopSequences.map { .string($0) }) }
        if !options.isEmpty { body["options"] = .object(options) }
        if let think { body["think"] = think.json }
        if let keepAlive { body["keep_alive"] = .string(keepAlive) }
        return .object(body)
    }

    static func encode(_ message: Message, provider: String) throws -> [JSONValue] {
        switch message.role {
        case .tool:
            return message.toolResults.map { result in
                var out: [String: JSONValue] = ["role": "tool", "content": .string(result.content)]
                if !result.name.isEmpty { out["tool_name"] = .string(result.name) }
                if !result.toolCallID.isEmpty { out["tool_call_id"] = .string(result.toolCallID) }
                return .object(out)
            }
        case .assistant:
            var out: [String: JSONValue] = ["role": "assistant", "content": .string(message.text)]
            let calls = message.toolCalls
            if !calls.isEmpty {
                out["tool_calls"] = .array(calls.map { call in
                    let arguments = call.arguments.flatMap { $0.objectValue != nil ? $0 : nil } ?? .object([:])
                    return ["id": .string(call.id), "function": ["name": .string(call.name), "arguments": arguments]]
                })
            }
            return [.object(out)]
        case .system, .user:
            var out: [String: JSONValue] = ["role": .string(message.role.rawValue), "content": .string(message.text)]
            var images: [JSONValue] = []
            for part in message.content {
                guard case .image(let image) = part else { continue }
                if let data = image.base64Data {
                    images.append(.string(data))
                } else if let url = image.url, url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
                    images.append(.string(String(url[url.index(after: comma)...])))
                } else {
                    throw ProviderError(
                        .invalidRequest,
                        provider: provider,
                        message: "Ollama takes images as bytes (base64 or a data: URL), not by URL: \(image.url ?? "(no data)")"
                    )
                }
            }
            if !images.isEmpty { out["images"] = .array(images) }
            return [.object(out)]
        }
    }

    /// A `done_reason`; `stop` is `toolCalls` when the answer calls tools.
    public static func finishReason(_ text: String?, hasToolCalls: Bool) -> FinishReason {
        switch text {
        case nil, "", "stop": hasToolCalls ? .toolCalls : .stop
        case "length": .length
        case let other?: .other(other)
        }
    }

    /// The usage of the final object: `prompt_eval_count` in, `eval_count` out.
    public static func usage(_ json: JSONValue) -> Usage {
        Usage(inputTokens: json["prompt_eval_count"]?.intValue ?? 0, outputTokens: json["eval_count"]?.intValue ?? 0)
    }

    /// A call's arguments as text: Ollama sends an object, written here canonically.
    static func arguments(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "{}"
        case .string(let text)?: return text.allSatisfy(\.isWhitespace) ? "{}" : text
        case let value?: return value.canonicalString
        }
    }

    /// An `{"error": "…"}` object (in a stream, or a 200 response that failed).
    static func error(_ json: JSONValue, provider: String, requestID: String?) -> ProviderError {
        let message = json["error"]?.stringValue ?? json["error"]?["message"]?.stringValue ?? "Ollama reported an error"
        let lowered = message.lowercased()
        let code: ProviderError.Code = lowered.contains("not found") ? .notFound
            : ProviderError.classify(status: 0, type: nil, code: nil, message: message)
        return ProviderError(code, provider: provider, message: message, requestID: requestID)
    }

    /// A non-streamed response.
    public static func response(_ json: JSONValue, provider: String, requestID: String?) throws -> ModelResponse {
        if json["error"] != nil, json["message"] == nil {
            throw error(json, provider: provider, requestID: requestID)
        }
        guard let message = json["message"] else {
            throw WireJSON.missing("message", provider: provider, requestID: requestID)
        }
        var calls: [ToolCall] = []
        for (i, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            let function = call["function"]
            calls.append(ToolCall(
                id: call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "call_\(i)",
                name: function?["name"]?.stringValue ?? "",
                rawArguments: arguments(function?["arguments"])
            ))
        }
        return ModelResponse(
            message: .assistant(message["content"]?.stringValue ?? "", toolCalls: calls),
            finishReason: finishReason(json["done_reason"]?.stringValue, hasToolCalls: !calls.isEmpty),
            usage: usage(json),
            model: json["model"]?.stringValue,
            requestID: requestID
        )
    }
}

/// Maps an Ollama `/api/chat` stream (newline-delimited JSON, not SSE) to ModelStreamEvents.
///
/// Each line is one object: `message.content` is a text delta, `message.thinking` reasoning
/// (skipped), `message.tool_calls` whole calls (arguments as an object, written canonically
/// as the raw arguments; ids as Ollama gives them, else `call_0`, `call_1`… in order). The
/// line with `"done": true` carries `done_reason` and the token counts, and ends the answer;
/// a body that ends without it is an error, and so is an `{"error": "…"}` line.
public struct OllamaStreamMapper: WireEventMapper {
    private var lines = NDJSONLineSplitter()
    private var calls = ToolCallAssembler()
    private var callCount = 0
    private var done = false
    private let provider: String
    private let requestID: String?

    public init(provider: String, requestID: String?) {
        self.provider = provider
        self.requestID = requestID
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ModelStreamEvent]) throws {
        for line in lines.feed(bytes) { try handle(line, atEnd: false, into: &events) }
    }

    public mutating func finish(into events: inout [ModelStreamEvent]) throws {
        if let line = lines.finish() { try handle(line, atEnd: true, into: &events) }
        guard done else { throw WireJSON.truncated(#"a line with "done": true"#, provider: provider, requestID: requestID) }
    }

    private mutating func handle(_ line: String, atEnd: Bool, into events: inout [ModelStreamEvent]) throws {
        guard !done else { return }
        let json: JSONValue
        do {
            json = try WireJSON.parse(line, provider: provider, requestID: requestID, what: "a stream line")
        } catch {
            if atEnd { throw WireJSON.truncated(#"a line with "done": true"#, provider: provider, requestID: requestID) }
            throw error
        }
        if json["error"] != nil {
            throw OllamaWire.error(json, provider: provider, requestID: requestID)
        }
        if let message = json["message"] {
            if let text = message["content"]?.stringValue, !text.isEmpty { events.append(.textDelta(text)) }
            for call in message["tool_calls"]?.arrayValue ?? [] {
                let function = call["function"]
                let id = call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "call_\(callCount)"
                callCount += 1
                calls.whole(
                    id: id,
                    name: function?["name"]?.stringValue ?? "",
                    arguments: OllamaWire.arguments(function?["arguments"]),
                    into: &events
                )
            }
        }
        if json["done"]?.boolValue == true {
            done = true
            events.append(.usage(OllamaWire.usage(json)))
            events.append(.finish(
                OllamaWire.finishReason(json["done_reason"]?.stringValue, hasToolCalls: callCount > 0),
                requestID: requestID
            ))
        }
    }
}
