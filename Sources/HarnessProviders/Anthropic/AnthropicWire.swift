//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// The Anthropic Messages wire format (`POST /v1/messages`, `anthropic-version: 2023-06-01`).
///
/// What the request carries and how:
/// - The system prompt is the top-level `system` field. System-role messages in the
///   conversation are appended to it (the Messages API has no system role in `messages`).
/// - `messages` alternate user and assistant turns: consecutive messages that end up in the
///   same role are merged into one turn. Tool messages become user turns of `tool_result`
///   blocks, so the results of parallel tool calls arrive as one user message; inside a user
///   turn the `tool_result` blocks come first, as the API requires.
/// - Assistant tool calls become `tool_use` blocks whose `input` is the parsed arguments
///   object (`{}` when the model's arguments were not a JSON object).
/// - Images become `image` blocks with a `base64` source (from bytes or a `data:` URL) or a
///   `url` source.
/// - `max_tokens` is required by the API: it is `options.maxOutputTokens`, else
///   ``defaultMaxTokens``.
/// - There is no `response_format` in this API: a JSON Schema response format is not sent
///   (``AnthropicModel`` reports `structuredOutput: false`, so the orchestrator puts the
///   schema in the instructions instead). `seed` has no Anthropic equivalent and is not sent.
public enum AnthropicWire {
    /// The `anthropic-version` header value.
    public static let version = "2023-06-01"

    /// The `max_tokens` sent when the request sets no `maxOutputTokens` (the API requires one).
    public static let defaultMaxTokens = 4096

    /// The request body for `request`.
    public static func body(for request: ModelRequest, stream: Bool, defaultMaxTokens: Int = defaultMaxTokens) -> JSONValue {
        let options = request.options
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "max_tokens": .integer(options.maxOutputTokens ?? defaultMaxTokens),
        ]
        var system: [String] = []
        if let prompt = request.system, !prompt.isEmpty { system.append(prompt) }
        var turns: [(role: String, blocks: [JSONValue])] = []
        for message in request.messages {
            let role: String
            switch message.role {
            case .system:
                let text = message.text
                if !text.isEmpty { system.append(text) }
                continue
            case .user, .tool: role = "user"
            case .assistant: role = "assistant"
            }
            let blocks = message.content.compactMap(block)
            if blocks.isEmpty { continue }  // the API refuses a turn with no content
            if turns.last?.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        body["messages"] = .array(turns.map { turn in
            var blocks = turn.blocks
            if turn.role == "user" {
                // Tool results must open the turn; keep each group in order.
                let isResult = { (block: JSONValue) in block["type"] == "tool_result" }
                blocks = blocks.filter(isResult) + blocks.filter { !isResult($0) }
            }
            return ["role": .string(turn.role), "content": .array(blocks)]
        })
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                var out: [String: JSONValue] = ["name": .string(tool.name), "input_schema": tool.inputSchema]
                if !tool.description.isEmpty { out["description"] = .string(tool.description) }
                return .object(out)
            })
            switch request.toolChoice {
            case .auto: body["tool_choice"] = ["type": "auto"]
            case .none: body["tool_choice"] = ["type": "none"]
            case .required: body["tool_choice"] = ["type": "any"]
            case .tool(let name): body["tool_choice"] = ["type": "tool", "name": .string(name)]
            }
        }
        if let t = options.temperature { body["temperature"] = .number(t) }
        if let p = options.topP { body["top_p"] = .number(p) }
        if !options.stopSequences.isEmpty { body["stop_sequences"] = .array(options.stopSequences.map { .string($0) }) }
        if stream { body["stream"] = true }
        return .object(body)
    }

    /// One content part as a content block, or nil for parts the API cannot take (empty text,
    /// an image with neither bytes nor URL).
    static func block(_ part: ContentPart) -> JSONValue? {
        switch part {
        case .text(let text):
            return text.isEmpty ? nil : ["type": "text", "text": .string(text)]
        case .image(let image):
            return imageSource(image).map { ["type": "image", "source": $0] }
        case .toolCall(let call):
            // `input` must be an object: arguments that do not parse as one are sent as {}.
            let input = JSONValue.object(call.arguments?.objectValue ?? [:])
            return ["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": input]
        case .toolResult(let result):
            return [
                "type": "tool_result", "tool_use_id": .string(result.toolCallID),
                "content": .string(result.content), "is_error": .bool(result.isError),
            ]
        }
    }

    static func imageSource(_ image: ImageContent) -> JSONValue? {
        if let data = image.base64Data {
            return ["type": "base64", "media_type": .string(image.mediaType ?? "image/png"), "data": .string(data)]
        }
        guard let url = image.url else { return nil }
        guard url.hasPrefix("data:") else { return ["type": "url", "url": .string(url)] }
        // data:<media type>;base64,<data>
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else { return nil }
        let mediaType = url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count)
        return [
            "type": "base64",
            "media_type": .string(mediaType.isEmpty ? image.mediaType ?? "image/png" : String(mediaType)),
            "data": .string(String(url[url.index(after: comma)...])),
        ]
    }

    /// A `usage` object. Anthropic counts cached input apart from `input_tokens`; here
    /// `inputTokens` is the whole prompt (uncached + cache writes + cache reads), with the
    /// cached parts also given on their own.
    public static func usage(_ json: JSONValue) -> Usage {
        let uncached = json["input_tokens"]?.intValue ?? 0
        let cacheWrite = json["cache_creation_input_tokens"]?.intValue ?? 0
        let cacheRead = json["cache_read_input_tokens"]?.intValue ?? 0
        return Usage(
            inputTokens: uncached + cacheWrite + cacheRead,
            outputTokens: json["output_tokens"]?.intValue ?? 0,
            cacheReadTokens: cacheRead,
            cacheWriteTokens: cacheWrite,
            // Sent by newer models only; already part of output_tokens.
            reasoningTokens: json["output_tokens_details"]?["thinking_tokens"]?.intValue ?? 0
        )
    }

    /// A `stop_reason`.
    public static func finishReason(_ text: String?) -> FinishReason {
        switch text {
        case "end_turn", "stop_sequence", nil: .stop
        case "max_tokens": .length
        case "tool_use": .toolCalls
        case let other?: .other(other)  // refusal, pause_turn, and reasons added later
        }
    }

    /// A non-streamed response.
    ///
    /// Text blocks are joined; `tool_use` blocks become tool calls. A `tool_use` block that
    /// ends a `max_tokens` answer may have been cut off: as in a stream, such a call is never
    /// returned, and the response is an error. `thinking` and `redacted_thinking` blocks are
    /// the model's reasoning, not its answer, and are dropped. `server_tool_use` blocks and
    /// their results (web search, code execution…) were run by Anthropic inside the request, so
    /// they are not tool calls for us to run; they are dropped too.
    public static func response(_ json: JSONValue, provider: String, requestID: String?) throws -> ModelResponse {
        if json["type"] == "error" {
            throw ProviderError.inStream(json, provider: provider, requestID: requestID ?? json["request_id"]?.stringValue)
        }
        guard let content = json["content"]?.arrayValue else {
            throw WireJSON.missing("content", provider: provider, requestID: requestID)
        }
        let stopReason = json["stop_reason"]?.stringValue
        if stopReason == "max_tokens", let last = content.last, last["type"] == "tool_use" {
            throw cutOffToolCall(last["id"]?.stringValue ?? "", stopReason: stopReason, provider: provider, requestID: requestID)
        }
        var text = ""
        var calls: [ToolCall] = []
        for block in content {
            switch block["type"]?.stringValue {
            case "text":
                text += block["text"]?.stringValue ?? ""
            case "tool_use":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw WireJSON.missing("id and name in a tool_use block", provider: provider, requestID: requestID)
                }
                calls.append(ToolCall(id: id, name: name, arguments: block["input"] ?? [:]))
            default:
                break
            }
        }
        return ModelResponse(
            message: .assistant(text, toolCalls: calls),
            finishReason: finishReason(stopReason),
            usage: json["usage"].map(usage) ?? .zero,
            model: json["model"]?.stringValue,
            requestID: requestID ?? json["id"]?.stringValue
        )
    }

    /// The error for an answer that stopped inside the arguments of tool call `id`.
    static func cutOffToolCall(_ id: String, stopReason: String?, provider: String, requestID: String?) -> ProviderError {
        ProviderError(
            .invalidResponse,
            provider: provider,
            message: "the answer stopped (stop_reason \(stopReason ?? "none")) in the middle of tool call '\(id)'; "
                + "a cut-off tool call is never completed (raise max_tokens)",
            requestID: requestID
        )
    }
}

/// Maps an Anthropic Messages SSE stream to ModelStreamEvents.
///
/// - `message_start` gives the message id and the first usage counts; `message_delta` the
///   `stop_reason` and the cumulative `output_tokens` (and sometimes updated input and cache
///   counts, which replace the earlier ones). `message_stop` is the final event: usage, then
///   finish. A body that ends before it is an error.
/// - Text blocks stream as text deltas. A `tool_use` block starts a tool call at
///   `content_block_start` (id and name), streams its `input_json_delta` fragments as
///   argument deltas (the first is often empty), and completes at its `content_block_stop`.
/// - `thinking` blocks (`thinking_delta`, `signature_delta`) are reasoning, not answer text,
///   and produce no events. `server_tool_use` blocks and their result blocks are tools Anthropic
///   runs itself (web search…): they are not emitted as tool calls, since there is nothing for
///   the caller to run and no result it could send back.
/// - `event: error` throws the ``ProviderError`` it describes (`overloaded_error` →
///   ``ProviderError/Code/overloaded``…). `ping` and event types this mapper does not know
///   are ignored, as Anthropic's versioning policy asks.
/// - A tool call still open at `message_stop` (the answer hit `max_tokens` in the middle of
///   its arguments) is never completed: the stream throws after the events before it.
///
/// The final event of recorded streams often has no blank line after it, so the SSE decoder
/// dispatches a pending event at the end of the body.
public struct AnthropicStreamMapper: WireEventMapper {
    private enum Block {
        case text, toolUse, ignored
    }

    private var sse = SSEDecoder(endOfStream: .dispatch)
    private var calls = ToolCallAssembler()
    private var blocks: [Int: Block] = [:]
    /// The usage object as last reported, merged key by key.
    private var usage: [String: JSONValue] = [:]
    private var stopReason: String?
    private var done = false
    private let provider: String
    private var requestID: String?

    /// A mapper for one response; `requestID` is the `request-id` header (the message id
    /// stands in when it is nil).
    public init(provider: String, requestID: String?) {
        self.provider = provider
        self.requestID = requestID
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ModelStreamEvent]) throws {
        for event in sse.feed(bytes) { try handle(event, into: &events) }
    }

    public mutating func finish(into events: inout [ModelStreamEvent]) throws {
        for event in sse.finish() { try handle(event, into: &events) }
        guard done else { throw WireJSON.truncated("message_stop", provider: provider, requestID: requestID) }
    }

    private mutating func handle(_ event: ServerSentEvent, into events: inout [ModelStreamEvent]) throws {
        guard !done, event.type != "ping", !event.data.isEmpty else { return }
        let json = try WireJSON.parse(event.data, provider: provider, requestID: requestID, what: "a stream event")
        switch json["type"]?.stringValue ?? event.type {
        case "message_start":
            if requestID == nil { requestID = json["message"]?["id"]?.stringValue }
            mergeUsage(json["message"]?["usage"])
        case "content_block_start":
            let index = try blockIndex(json)
            let block = json["content_block"]
            switch block?["type"]?.stringValue {
            case "text":
                blocks[index] = .text
                if let text = block?["text"]?.stringValue, !text.isEmpty { events.append(.textDelta(text)) }
            case "tool_use":
                blocks[index] = .toolUse
                calls.add(key: String(index), id: block?["id"]?.stringValue, name: block?["name"]?.stringValue, into: &events)
            default:
                blocks[index] = .ignored  // thinking, redacted_thinking, server_tool_use and its results…
            }
        case "content_block_delta":
            let index = try blockIndex(json)
            let delta = json["delta"]
            switch (blocks[index], delta?["type"]?.stringValue) {
            case (.text?, "text_delta"):
                if let text = delta?["text"]?.stringValue, !text.isEmpty { events.append(.textDelta(text)) }
            case (.toolUse?, "input_json_delta"):
                calls.add(key: String(index), arguments: delta?["partial_json"]?.stringValue ?? "", into: &events)
            default:
                break  // thinking_delta, signature_delta, a server tool's input, citations…
            }
        case "content_block_stop":
            let index = try blockIndex(json)
            if blocks.removeValue(forKey: index) == .toolUse { calls.complete(key: String(index), into: &events) }
        case "message_delta":
            if let reason = json["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
            mergeUsage(json["usage"])
        case "message_stop":
            if let open = calls.openCallIDs.first {
                throw AnthropicWire.cutOffToolCall(open, stopReason: stopReason, provider: provider, requestID: requestID)
            }
            guard let stopReason else {
                throw WireJSON.truncated("message_delta with a stop_reason", provider: provider, requestID: requestID)
            }
            events.append(.usage(AnthropicWire.usage(.object(usage))))
            events.append(.finish(AnthropicWire.finishReason(stopReason), requestID: requestID))
            done = true
        case "error":
            throw ProviderError.inStream(json, provider: provider, requestID: requestID ?? json["request_id"]?.stringValue)
        default:
            break
        }
    }

    private func blockIndex(_ json: JSONValue) throws -> Int {
        guard let index = json["index"]?.intValue else {
            throw WireJSON.missing("index in a \(json["type"]?.stringValue ?? "content block") event", provider: provider, requestID: requestID)
        }
        return index
    }

    private mutating func mergeUsage(_ json: JSONValue?) {
        for (key, value) in json?.objectValue ?? [:] where !value.isNull { usage[key] = value }
    }
}
