//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
public import HarnessCore

/// The AWS Bedrock Converse wire format (`POST /model/{modelId}/converse` and
/// `/converse-stream`), the same for every model Bedrock hosts.
///
/// Mapping choices:
/// - Tool results (role `tool`) go in user messages as `toolResult` blocks; consecutive
///   messages of the same Converse role are merged into one, since Converse wants the roles
///   to alternate. System-role messages join the top-level `system` blocks.
/// - Empty text parts and messages left with no content are dropped (Converse refuses blank
///   text blocks).
/// - Images: inline bytes (`base64Data`, or a `data:` URL) as `image.source.bytes`, an `s3://`
///   URL as `image.source.s3Location`; an `https:` URL cannot be sent (Converse does not fetch
///   URLs) and fails the request before anything is sent.
/// - Tool choice `auto` → `{auto:{}}`, `required` → `{any:{}}`, `tool(name)` → `{tool:{name}}`.
///   Converse has no "none": with `none` the tools are left out — unless the conversation
///   already holds tool calls or results, which Converse accepts only with a `toolConfig`; then
///   the tools are sent without a `toolChoice`, and the model may still call one.
/// - A conversation with tool blocks but no tools in the request gets minimal tool specs for
///   the names it uses (the same `toolConfig` rule).
/// - A tool call whose arguments never parsed is replayed with `{}` as its input (Converse
///   takes the input as a JSON document, not text).
/// - `responseFormat` `jsonSchema` → `outputConfig.textFormat` (only some models accept it,
///   so ``BedrockModel`` does not advertise structured output by default); `jsonObject` has
///   no Converse equivalent and is not sent. `seed` is not sent either.
public enum BedrockWire {
    /// The request body for `request`.
    /// - Throws: ``ProviderError`` `invalidRequest` for content Converse cannot carry.
    public static func body(for request: ModelRequest, provider: String = "bedrock") throws -> JSONValue {
        var body: [String: JSONValue] = [:]
        var system: [JSONValue] = []
        if let text = request.system, !text.isEmpty { system.append(["text": .string(text)]) }

        var messages: [(role: String, content: [JSONValue])] = []
        var usesTools = false
        var toolNames: [String] = []
        for message in request.messages {
            if message.role == .system {
                let text = message.text
                if !text.isEmpty { system.append(["text": .string(text)]) }
                continue
            }
            let role = message.role == .assistant ? "assistant" : "user"
            var content: [JSONValue] = []
            for part in message.content {
                switch part {
                case .text(let text):
                    if !text.isEmpty { content.append(["text": .string(text)]) }
                case .image(let image):
                    content.append(["image": try Self.image(image, provider: provider)])
                case .toolCall(let call):
                    usesTools = true
                    if !toolNames.contains(call.name) { toolNames.append(call.name) }
                    let input: JSONValue = call.arguments.flatMap { $0.objectValue != nil ? $0 : nil } ?? .object([:])
                    content.append(["toolUse": ["toolUseId": .string(call.id), "name": .string(call.name), "input": input]])
                case .toolResult(let result):
                    usesTools = true
                    var block: [String: JSONValue] = [
                        "toolUseId": .string(result.toolCallID),
                        "content": [["text": .string(result.content)]],
                    ]
                    if result.isError { block["status"] = "error" }
                    content.append(["toolResult": .object(block)])
                }
            }
            guard !content.isEmpty else { continue }
            if let last = messages.last, last.role == role {
                messages[messages.count - 1].content += content
            } else {
                messages.append((role, content))
            }
        }
        if !system.isEmpty { body["system"] = .array(system) }
        body["messages"] = .array(messages.map { ["role": .string($0.role), "content": .array($0.content)] })

        var inference: [String: JSONValue] = [:]
        let options = request.options
        if let m = options.maxOutputTokens { inference["maxTokens"] = .integer(m) }
        if let t = options.temperature { inference["temperature"] = .number(t) }
        if let p = options.topP { inference["topP"] = .number(p) }
        if !options.stopSequences.isEmpty { inference["stopSequences"] = .array(options.stopSequences.map { .string($0) }) }
        if !inference.isEmpty { body["inferenceConfig"] = .object(inference) }

        var specs: [JSONValue] = request.tools.map { tool in
            var spec: [String: JSONValue] = ["name": .string(tool.name), "inputSchema": ["json": tool.inputSchema]]
            if !tool.description.isEmpty { spec["description"] = .string(tool.description) }
            return ["toolSpec": .object(spec)]
        }
        if specs.isEmpty, usesTools {
            specs = toolNames.map { ["toolSpec": ["name": .string($0), "inputSchema": ["json": ["type": "object"]]]] }
        }
        if !specs.isEmpty, request.toolChoice != .none || usesTools {
            var config: [String: JSONValue] = ["tools": .array(specs)]
            switch request.toolChoice {
            case .auto: config["toolChoice"] = ["auto": [:]]
            case .required: config["toolChoice"] = ["any": [:]]
            case .tool(let name): config["toolChoice"] = ["tool": ["name": .string(name)]]
            case .none: break
            }
            body["toolConfig"] = .object(config)
        }

        if case .jsonSchema(let name, let schema, _) = request.responseFormat {
            body["outputConfig"] = [
                "textFormat": [
                    "type": "json_schema",
                    "structure": ["jsonSchema": ["schema": .string(schema.canonicalString), "name": .string(name)]],
                ],
            ]
        }
        return .object(body)
    }

    static func image(_ image: ImageContent, provider: String) throws -> JSONValue {
        var base64 = image.base64Data
        var mediaType = image.mediaType
        if base64 == nil, let url = image.url {
            if url.hasPrefix("s3://") {
                return ["format": .string(format(mediaType, url: url)), "source": ["s3Location": ["uri": .string(url)]]]
            }
            if url.hasPrefix("data:"), let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") {
                base64 = String(url[url.index(after: comma)...])
                mediaType = mediaType ?? String(url.dropFirst(5)[..<comma].dropLast(7))
            } else {
                throw ProviderError(
                    .invalidRequest, provider: provider,
                    message: "Bedrock Converse takes images as bytes or s3:// locations, not URLs: \(url.prefix(80))"
                )
            }
        }
        guard let base64 else {
            throw ProviderError(.invalidRequest, provider: provider, message: "an image part has neither bytes nor a URL")
        }
        return ["format": .string(format(mediaType, url: nil)), "source": ["bytes": .string(base64)]]
    }

    /// Converse's image format (`png`, `jpeg`, `gif`, `webp`) from a media type or file name.
    static func format(_ mediaType: String?, url: String?) -> String {
        let hint = (mediaType ?? url ?? "").lowercased()
        for (needle, format) in [("png", "png"), ("jpeg", "jpeg"), ("jpg", "jpeg"), ("gif", "gif"), ("webp", "webp")]
        where hint.contains(needle) {
            return format
        }
        return "png"
    }

    /// A `stopReason`.
    public static func finishReason(_ text: String?) -> FinishReason {
        switch text {
        case "end_turn", "stop_sequence", nil: .stop
        case "tool_use": .toolCalls
        case "max_tokens", "model_context_window_exceeded": .length
        case "guardrail_intervened", "content_filtered": .contentFilter
        case let other?: .other(other)
        }
    }

    /// A `usage` block. Bedrock's `inputTokens` leaves out the tokens read from and written to
    /// the prompt cache; ours counts them (see ``Usage``).
    public static func usage(_ json: JSONValue) -> Usage {
        let read = json["cacheReadInputTokens"]?.intValue ?? 0
        let write = json["cacheWriteInputTokens"]?.intValue ?? 0
        return Usage(
            inputTokens: (json["inputTokens"]?.intValue ?? 0) + read + write,
            outputTokens: json["outputTokens"]?.intValue ?? 0,
            cacheReadTokens: read,
            cacheWriteTokens: write
        )
    }

    /// A Converse response.
    public static func response(_ json: JSONValue, model: String, provider: String, requestID: String?) throws -> ModelResponse {
        guard let content = json["output"]?["message"]?["content"]?.arrayValue else {
            throw WireJSON.missing("output.message.content", provider: provider, requestID: requestID)
        }
        var text = ""
        var calls: [ToolCall] = []
        for block in content {
            if let t = block["text"]?.stringValue { text += t }
            if let use = block["toolUse"] {
                let id = use["toolUseId"]?.stringValue ?? "call_\(calls.count)"
                calls.append(ToolCall(id: id, name: use["name"]?.stringValue ?? "", arguments: use["input"] ?? .object([:])))
            }
            // reasoningContent, citationsContent…: not answer text.
        }
        return ModelResponse(
            message: .assistant(text, toolCalls: calls),
            finishReason: finishReason(json["stopReason"]?.stringValue),
            usage: json["usage"].map(usage) ?? .zero,
            model: json["trace"]?["promptRouter"]?["invokedModelId"]?.stringValue ?? model,
            requestID: requestID
        )
    }

    /// The HTTP status each stream exception has when Bedrock returns it as a response, so
    /// that one arriving mid-stream is classified the same way.
    static let exceptionStatus: [String: Int] = [
        "throttlingexception": 429,
        "validationexception": 400,
        "modelstreamerrorexception": 500,
        "serviceunavailableexception": 503,
        "internalserverexception": 500,
        "accessdeniedexception": 403,
        "resourcenotfoundexception": 404,
        "modeltimeoutexception": 408,
        "modelnotreadyexception": 429,
        "modelerrorexception": 500,
    ]

    /// The error for an `exception` (or `error`) message of a ConverseStream body.
    static func streamError(_ message: AWSEventStreamMessage, provider: String, requestID: String?) -> ProviderError {
        let type = message.exceptionType ?? message[header: ":error-code"]?.stringValue ?? "UnknownException"
        let json = try? JSONValue(parsingBytes: message.payload)
        let text = json?["message"]?.stringValue ?? json?["Message"]?.stringValue
            ?? message[header: ":error-message"]?.stringValue
            ?? (message.payload.isEmpty ? "the stream reported \(type)" : String(decoding: message.payload.prefix(300), as: UTF8.self))
        // `:exception-type` is the stream member name (`throttlingException`); the HTTP error
        // type is capitalized. Report the latter, as the HTTP errors do.
        let providerCode = type.prefix(1).uppercased() + type.dropFirst()
        let status = exceptionStatus[type.lowercased()] ?? 500
        return ProviderError(
            ProviderError.classify(status: status, type: type, code: nil, message: text),
            provider: provider,
            message: text,
            providerCode: providerCode,
            requestID: requestID
        )
    }
}
