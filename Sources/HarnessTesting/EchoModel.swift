//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
public import HarnessCore

/// A model that answers any request by rule, with no network and no key: the model behind
/// `harness serve` and `harness demo` when no provider is configured, and a predictable
/// upstream for tests of clients.
///
/// - With tools offered and no tool result since the last user message, it calls tools: the
///   one `tool_choice` names, or else every offered tool (parallel calls), with arguments
///   made from each tool's input schema (required properties, first enum value, `"Paris"`
///   for a property named `city`/`location`, otherwise a short placeholder). `tool_choice:
///   none` suppresses the calls.
/// - After tool results, it answers with a sentence quoting each result.
/// - With `response_format` json_schema it answers with an instance of the schema; with
///   json_object, `{"answer": …}`.
/// - Otherwise it echoes the last user message: `You said: …`.
/// - A stop sequence found in the answer truncates it there (finish reason `stop`);
///   `max_tokens` truncates by whole words (finish reason `length`).
///
/// Usage counts come from ``HeuristicTokenCounter`` (4 bytes a token); the response id is
/// deterministic per request.
public struct EchoModel: LanguageModel {
    public let providerName = "scripted"
    public var capabilities: ModelCapabilities { ModelCapabilities(structuredOutput: true, toolCalling: true, contextWindow: 128_000) }
    /// Text split into this many bytes per stream delta (at least 1).
    public var chunkSize: Int
    let counter = HeuristicTokenCounter()

    public init(chunkSize: Int = 8) {
        self.chunkSize = max(1, chunkSize)
    }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        answer(request)
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        let response = answer(request)
        var events: [ModelStreamEvent] = []
        for part in response.message.content {
            switch part {
            case .text(let text):
                for piece in Self.pieces(text, chunkSize) { events.append(.textDelta(piece)) }
            case .toolCall(let call):
                events.append(.toolCallStart(id: call.id, name: call.name))
                for piece in Self.pieces(call.rawArguments, chunkSize) { events.append(.toolCallArgumentsDelta(id: call.id, delta: piece)) }
                events.append(.toolCallComplete(call))
            case .image, .toolResult: break
            }
        }
        events.append(.usage(response.usage))
        events.append(.finish(response.finishReason, requestID: response.requestID))
        return ModelEventStream(events: events, error: nil)
    }

    /// The answer to `request`, by the rules above.
    public func answer(_ request: ModelRequest) -> ModelResponse {
        let lastUser = request.messages.lastIndex { $0.role == .user } ?? -1
        let results = request.messages.suffix(from: max(0, lastUser + 1)).flatMap(\.toolResults)
        var inputTokens = counter.count(request.system ?? "")
        for message in request.messages { inputTokens += counter.count(message) }
        for tool in request.tools { inputTokens += counter.count(tool.name + tool.description + tool.inputSchema.canonicalString) }
        let requestID = "echo-" + String(UInt64(truncatingIfNeeded: inputTokens &* 2_654_435_761 &+ request.messages.count), radix: 16)

        if results.isEmpty, !request.tools.isEmpty, let calls = toolCalls(for: request) {
            let outputTokens = calls.reduce(0) { $0 + counter.count($1.name + $1.rawArguments) }
            return ModelResponse(
                message: Message(role: .assistant, content: calls.map { .toolCall($0) }),
                finishReason: .toolCalls,
                usage: Usage(inputTokens: max(1, inputTokens), outputTokens: max(1, outputTokens)),
                model: request.model,
                requestID: requestID
            )
        }

        var text: String
        if !results.isEmpty {
            text = "Tool results: " + results.map { "\($0.name) returned \($0.content)" }.joined(separator: "; ") + "."
        } else {
            let said = lastUser >= 0 ? request.messages[lastUser].text : ""
            switch request.responseFormat {
            case .jsonSchema(_, let schema, _):
                text = Self.example(for: schema, hint: said, depth: 0).canonicalString
            case .jsonObject:
                text = JSONValue.object(["answer": .string(said)]).canonicalString
            case .text:
                text = "You said: " + said
            }
        }
        var reason = FinishReason.stop
        for stop in request.options.stopSequences where !stop.isEmpty {
            if let range = text.range(of: stop) { text = String(text[..<range.lowerBound]) }
        }
        if let limit = request.options.maxOutputTokens {
            var words = text.split(separator: " ", omittingEmptySubsequences: false)
            if words.count > limit {
                words = Array(words.prefix(max(0, limit)))
                text = words.joined(separator: " ")
                reason = .length
            }
        }
        return ModelResponse(
            message: .assistant(text),
            finishReason: reason,
            usage: Usage(inputTokens: max(1, inputTokens), outputTokens: max(1, counter.count(text))),
            model: request.model,
            requestID: requestID
        )
    }

    func toolCalls(for request: ModelRequest) -> [ToolCall]? {
        let chosen: [ToolSpec]
        switch request.toolChoice {
        case .none: return nil
        case .tool(let name): chosen = request.tools.filter { $0.name == name }
        case .auto, .required: chosen = request.tools
        }
        guard !chosen.isEmpty else { return nil }
        return chosen.enumerated().map { i, tool in
            let arguments = Self.example(for: tool.inputSchema, hint: "", depth: 0)
            return ToolCall(id: "call_\(i + 1)_\(tool.name)", name: tool.name, rawArguments: arguments.canonicalString)
        }
    }

    /// A small instance of `schema`: required properties only, first enum value, first of
    /// `anyOf`/`oneOf`, minimum lengths and counts respected.
    public static func example(for schema: JSONValue, hint: String = "", depth: Int = 0, name: String = "") -> JSONValue {
        guard depth < 16 else { return .null }
        if let c = schema["const"] { return c }
        if case .array(let values)? = schema["enum"], let first = values.first { return first }
        for key in ["anyOf", "oneOf", "allOf"] {
            if case .array(let options)? = schema[key], let first = options.first {
                return example(for: first, hint: hint, depth: depth + 1, name: name)
            }
        }
        var type = schema["type"]?.stringValue
        if type == nil, case .array(let types)? = schema["type"] {
            type = types.compactMap(\.stringValue).first { $0 != "null" }
        }
        if type == nil { type = schema["properties"] != nil ? "object" : "string" }
        switch type {
        case "object":
            var out: [String: JSONValue] = [:]
            let properties = schema["properties"]?.objectValue ?? [:]
            let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for key in required {
                out[key] = example(for: properties[key] ?? [:], hint: hint, depth: depth + 1, name: key)
            }
            return .object(out)
        case "array":
            let count = schema["minItems"]?.intValue ?? 1
            let item = example(for: schema["items"] ?? ["type": "string"], hint: hint, depth: depth + 1, name: name)
            return .array(Array(repeating: item, count: max(0, min(count, 8))))
        case "integer":
            return .integer(Int(schema["minimum"]?.doubleValue?.rounded(.up) ?? 1))
        case "number":
            return .number(schema["minimum"]?.doubleValue ?? 1.5)
        case "boolean":
            return .bool(true)
        case "null":
            return .null
        default:
            var text: String
            switch name.lowercased() {
            case "city", "location", "place": text = "Paris"
            case "unit", "units": text = "celsius"
            case "": text = hint.isEmpty ? "example" : hint
            default: text = hint.isEmpty ? "example \(name)" : hint
            }
            if let min = schema["minLength"]?.intValue, text.count < min {
                text += String(repeating: "x", count: min - text.count)
            }
            if let max = schema["maxLength"]?.intValue, text.count > max { text = String(text.prefix(max)) }
            return .string(text)
        }
    }

    static func pieces(_ text: String, _ size: Int) -> [String] {
        var out: [String] = []
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            out.append(String(text[i..<j]))
            i = j
        }
        return out
    }
}
