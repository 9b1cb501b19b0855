//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Crypto
import Foundation

extension ModelRequest {
    /// Everything that determines the answer, as a JSON value: model, system prompt, every
    /// message (every part), tools, tool choice, response format and options. Metadata is
    /// left out (it does not change the answer).
    public var canonicalJSON: JSONValue {
        var o: [String: JSONValue] = [
            "model": .string(model),
            "messages": .array(messages.map(\.canonicalJSON)),
            "tools": .array(tools.map { ["name": .string($0.name), "description": .string($0.description), "schema": $0.inputSchema] }),
            "tool_choice": toolChoice.canonicalJSON,
            "response_format": responseFormat.canonicalJSON,
            "options": options.canonicalJSON,
        ]
        if let system { o["system"] = .string(system) }
        return .object(o)
    }

    /// The response-cache key: the hex SHA-256 of ``canonicalJSON``'s canonical text. Two
    /// requests share a key only if everything that determines the answer is equal.
    public var cacheKey: String {
        let digest = SHA256.hash(data: canonicalJSON.canonicalBytes)
        var out = "resp:v1:"
        out.reserveCapacity(8 + 64)
        for byte in digest {
            out.append(Character(Unicode.Scalar(Self.hex[Int(byte >> 4)])))
            out.append(Character(Unicode.Scalar(Self.hex[Int(byte & 0xF)])))
        }
        return out
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
}

extension Message {
    var canonicalJSON: JSONValue {
        var o: [String: JSONValue] = ["role": .string(role.rawValue), "content": .array(content.map(\.canonicalJSON))]
        if let name { o["name"] = .string(name) }
        return .object(o)
    }
}

extension ContentPart {
    var canonicalJSON: JSONValue {
        switch self {
        case .text(let t): return ["type": "text", "text": .string(t)]
        case .image(let i):
            return [
                "type": "image", "url": i.url.map(JSONValue.string) ?? .null,
                "data": i.base64Data.map(JSONValue.string) ?? .null,
                "media_type": i.mediaType.map(JSONValue.string) ?? .null,
            ]
        case .toolCall(let c):
            return ["type": "tool_call", "id": .string(c.id), "name": .string(c.name), "arguments": .string(c.rawArguments)]
        case .toolResult(let r):
            return [
                "type": "tool_result", "id": .string(r.toolCallID), "name": .string(r.name),
                "content": .string(r.content), "is_error": .bool(r.isError),
            ]
        }
    }
}

extension ToolChoice {
    var canonicalJSON: JSONValue {
        switch self {
        case .auto: return "auto"
        case .none: return "none"
        case .required: return "required"
        case .tool(let name): return ["tool": .string(name)]
        }
    }
}

extension ResponseFormat {
    var canonicalJSON: JSONValue {
        switch self {
        case .text: return "text"
        case .jsonObject: return "json_object"
        case .jsonSchema(let name, let schema, let strict):
            return ["name": .string(name), "schema": schema, "strict": .bool(strict)]
        }
    }
}

extension GenerationOptions {
    var canonicalJSON: JSONValue {
        [
            "temperature": temperature.map(JSONValue.number) ?? .null,
            "top_p": topP.map(JSONValue.number) ?? .null,
            "max_output_tokens": maxOutputTokens.map(JSONValue.integer) ?? .null,
            "seed": seed.map(JSONValue.integer) ?? .null,
            "stop": .array(stopSequences.map(JSONValue.string)),
        ]
    }
}

/// Caches complete model responses by request, on any ``Cache``.
///
/// Only finished answers are stored (stop or tool calls): a truncated or filtered answer is
/// never replayed.
public struct ResponseCache: Sendable {
    /// Where entries live.
    public var storage: any Cache
    /// How long an entry lives; `nil` for the storage's default.
    public var ttl: Duration?

    public init(storage: any Cache, ttl: Duration? = nil) {
        self.storage = storage
        self.ttl = ttl
    }

    /// The cached response for `request`, if any. A corrupt entry counts as a miss.
    public func get(_ request: ModelRequest) async -> ModelResponse? {
        guard let data = try? await storage.get(request.cacheKey) else { return nil }
        return try? JSONDecoder().decode(ModelResponse.self, from: data)
    }

    /// Stores `response` for `request` if it is a finished answer.
    public func set(_ request: ModelRequest, _ response: ModelResponse) async {
        switch response.finishReason {
        case .stop, .toolCalls: break
        default: return
        }
        guard let data = try? JSONEncoder().encode(response) else { return }
        try? await storage.set(request.cacheKey, value: data, ttl: ttl)
    }
}
