//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
public import HarnessCore

/// The Gemini API wire format (Google AI Studio, `generativelanguage.googleapis.com/v1beta`):
/// `models/{model}:generateContent` and `:streamGenerateContent?alt=sse`.
public enum GeminiWire {
    /// Where a `jsonSchema` response format goes.
    public enum JSONSchemaField: String, Sendable, Hashable {
        /// `generationConfig.responseSchema`: the OpenAPI-3 subset every Gemini model takes.
        /// The schema is lowered first (``schema(_:)``).
        case responseSchema
        /// `generationConfig.responseJsonSchema`: JSON Schema as given (`$ref`,
        /// `additionalProperties`…), which newer models (2.5 and later) take.
        case responseJsonSchema
    }

    /// The thought signature Google documents for function calls that Gemini did not make in
    /// this process (a conversation restored from storage, or begun with another model):
    /// Gemini 3 refuses a function call in the history without a signature.
    public static let placeholderThoughtSignature = "skip_thought_signature_validator"

    // MARK: - Request

    /// The request body for `request`.
    ///
    /// - Parameters:
    ///   - signature: the thought signature Gemini gave with a call, if known.
    ///   - placeholderSignature: sent on the first function call of a model turn whose calls
    ///     have no known signature; nil sends none.
    public static func body(
        for request: ModelRequest,
        jsonSchemaField: JSONSchemaField = .responseSchema,
        signature: (ToolCall) -> String? = { _ in nil },
        placeholderSignature: String? = placeholderThoughtSignature
    ) -> JSONValue {
        var body: [String: JSONValue] = [:]
        var system: [JSONValue] = []
        if let text = request.system, !text.isEmpty { system.append(["text": .string(text)]) }

        // Calls by id, to name the function of a result that does not name it.
        var callNames: [String: String] = [:]
        var contents: [JSONValue] = []
        var pendingResults: [JSONValue] = []
        func flushResults() {
            if !pendingResults.isEmpty {
                contents.append(["role": "user", "parts": .array(pendingResults)])
                pendingResults = []
            }
        }
        for message in request.messages {
            switch message.role {
            case .system:
                let text = message.text
                if !text.isEmpty { system.append(["text": .string(text)]) }
            case .tool:
                // Consecutive results (the answers to one turn's parallel calls) go in one content.
                for result in message.toolResults {
                    pendingResults.append(functionResponse(result, name: result.name.isEmpty ? callNames[result.toolCallID] : nil))
                }
            case .user:
                flushResults()
                let parts = message.content.compactMap(userPart)
                if !parts.isEmpty { contents.append(["role": "user", "parts": .array(parts)]) }
            case .assistant:
                flushResults()
                var parts: [JSONValue] = []
                var signed = false
                var firstCall: Int?
                for part in message.content {
                    switch part {
                    case .text(let text) where !text.isEmpty:
                        parts.append(["text": .string(text)])
                    case .toolCall(let call):
                        callNames[call.id] = call.name
                        var fc: [String: JSONValue] = ["name": .string(call.name), "args": callArguments(call)]
                        if !isGeneratedID(call.id) { fc["id"] = .string(call.id) }
                        var out: [String: JSONValue] = ["functionCall": .object(fc)]
                        if let sig = signature(call) {
                            out["thoughtSignature"] = .string(sig)
                            signed = true
                        }
                        if firstCall == nil { firstCall = parts.count }
                        parts.append(.object(out))
                    default:
                        break
                    }
                }
                if !signed, let firstCall, let placeholderSignature, case .object(var first) = parts[firstCall] {
                    first["thoughtSignature"] = .string(placeholderSignature)
                    parts[firstCall] = .object(first)
                }
                if !parts.isEmpty { contents.append(["role": "model", "parts": .array(parts)]) }
            }
        }
        flushResults()
        body["contents"] = .array(contents)
        if !system.isEmpty { body["systemInstruction"] = ["parts": .array(system)] }

        if !request.tools.isEmpty {
            body["tools"] = [["functionDeclarations": .array(request.tools.map(functionDeclaration))]]
            var config: [String: JSONValue]
            switch request.toolChoice {
            case .auto: config = ["mode": "AUTO"]
            case .none: config = ["mode": "NONE"]
            case .required: config = ["mode": "ANY"]
            case .tool(let name): config = ["mode": "ANY", "allowedFunctionNames": [.string(name)]]
            }
            body["toolConfig"] = ["functionCallingConfig": .object(config)]
        }

        var generation: [String: JSONValue] = [:]
        let options = request.options
        if let t = options.temperature { generation["temperature"] = .number(t) }
        if let p = options.topP { generation["topP"] = .number(p) }
        if let m = options.maxOutputTokens { generation["maxOutputTokens"] = .integer(m) }
        if let s = options.seed { generation["seed"] = .integer(s) }
        if !options.stopSequences.isEmpty { generation["stopSequences"] = .array(options.stopSequences.map { .string($0) }) }
        switch request.responseFormat {
        case .text:
            break
        case .jsonObject:
            generation["responseMimeType"] = "application/json"
        case .jsonSchema(_, let schema, _):
            generation["responseMimeType"] = "application/json"
            switch jsonSchemaField {
            case .responseSchema: generation["responseSchema"] = Self.schema(schema).schema
            case .responseJsonSchema: generation["responseJsonSchema"] = schema
            }
        }
        if !generation.isEmpty { body["generationConfig"] = .object(generation) }
        return .object(body)
    }

    /// Whether `id` is one this adapter made up (`call_0`, `call_1`…) for a call Gemini gave
    /// none: such ids are not sent back.
    static func isGeneratedID(_ id: String) -> Bool {
        id.hasPrefix("call_") && id.count > 5 && id.utf8.dropFirst(5).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    static func callArguments(_ call: ToolCall) -> JSONValue {
        if let args = call.arguments, args.objectValue != nil { return args }
        return .object([:])
    }

    /// A tool result as a `functionResponse` part. Gemini wants `response` to be an object:
    /// a result that is a JSON object is sent as it is; anything else is wrapped, as
    /// `{"result": text}`, or `{"error": text}` for a failure.
    static func functionResponse(_ result: ToolResult, name: String?) -> JSONValue {
        let response: JSONValue
        if !result.isError, let parsed = try? JSONValue(parsing: result.content), parsed.objectValue != nil {
            response = parsed
        } else {
            let key = result.isError ? "error" : "result"
            response = .object([key: .string(result.content)])
        }
        var fr: [String: JSONValue] = ["name": .string(name ?? result.name), "response": response]
        if !isGeneratedID(result.toolCallID), !result.toolCallID.isEmpty { fr["id"] = .string(result.toolCallID) }
        return ["functionResponse": .object(fr)]
    }

    static func userPart(_ part: ContentPart) -> JSONValue? {
        switch part {
        case .text(let text):
            return text.isEmpty ? nil : ["text": .string(text)]
        case .image(let image):
            if let data = image.base64Data {
                return ["inlineData": ["mimeType": .string(image.mediaType ?? "image/png"), "data": .string(data)]]
            }
            guard let url = image.url else { return nil }
            if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
                let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
                let mime = header.split(separator: ";").first.map(String.init) ?? ""
                return ["inlineData": ["mimeType": .string(mime.isEmpty ? image.mediaType ?? "image/png" : mime), "data": .string(String(url[url.index(after: comma)...]))]]
            }
            var file: [String: JSONValue] = ["fileUri": .string(url)]
            if let mime = image.mediaType ?? mediaType(ofURL: url) { file["mimeType"] = .string(mime) }
            return ["fileData": .object(file)]
        case .toolCall, .toolResult:
            return nil
        }
    }

    static func mediaType(ofURL url: String) -> String? {
        let path = url.split(separator: "?").first.map(String.init)?.lowercased() ?? ""
        for (ext, type) in [(".png", "image/png"), (".jpg", "image/jpeg"), (".jpeg", "image/jpeg"), (".webp", "image/webp"),
                            (".gif", "image/gif"), (".heic", "image/heic"), (".heif", "image/heif")] where path.hasSuffix(ext) {
            return type
        }
        return nil
    }

    static func functionDeclaration(_ tool: ToolSpec) -> JSONValue {
        var decl: [String: JSONValue] = ["name": .string(tool.name), "description": .string(tool.description)]
        let parameters = schema(tool.inputSchema).schema
        // Gemini refuses an OBJECT with no properties: a tool without arguments declares none.
        let properties = parameters["properties"]?.objectValue ?? [:]
        let type = parameters["type"]?.stringValue
        if !properties.isEmpty || (type != nil && type != "object") {
            decl["parameters"] = parameters
        }
        return .object(decl)
    }

    // MARK: - Schemas

    /// The members of Gemini's `Schema` (an OpenAPI 3.0 subset); requests with any other
    /// member are refused.
    static let schemaMembers: Set<String> = [
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
        "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
        "propertyOrdering", "default", "items", "minimum", "maximum",
    ]

    /// `schema` as Gemini's `Schema` takes it (function `parameters`, `responseSchema`).
    ///
    /// First ``SchemaLowering`` for the `.gemini` dialect: local `$ref`s inlined (a recursive
    /// one cut), `$defs` removed, `type: [T, "null"]` as `nullable`, `const` as a one-value
    /// enum, `oneOf` as `anyOf`, `allOf` merged, and the constraints Gemini cannot enforce
    /// (`additionalProperties`, `pattern`, `exclusiveMinimum`…) moved into the description,
    /// where the model reads them (Harness checks the answer against the original schema).
    /// Then whatever `Schema` has no member for is dropped (`$schema`, `$id`, a non-local
    /// `$ref`, `examples`, `readOnly`…), a non-string `enum` becomes a description note (Gemini
    /// enums are strings), a `null` in an enum becomes `nullable`, an `items` array (a tuple)
    /// is dropped, and `required` keeps only the names `properties` declares. Each change is
    /// listed in `changes`.
    public static func schema(_ schema: JSONValue) -> (schema: JSONValue, changes: [String]) {
        let lowered = SchemaLowering.lower(schema, for: .gemini)
        var changes = lowered.changes
        let cleaned = clean(lowered.schema, path: "", changes: &changes)
        return (cleaned, changes)
    }

    private static func clean(_ value: JSONValue, path: String, changes: inout [String]) -> JSONValue {
        guard case .object(let o) = value else {
            if case .bool = value { changes.append("replaced the boolean schema at \(path.isEmpty ? "/" : path) by {}") }
            return .object([:])
        }
        let at = path.isEmpty ? "/" : path
        var out: [String: JSONValue] = [:]
        var dropped: [String] = []
        for (key, member) in o {
            guard schemaMembers.contains(key) else {
                dropped.append(key)
                continue
            }
            switch key {
            case "properties":
                var props: [String: JSONValue] = [:]
                for (name, sub) in member.objectValue ?? [:] {
                    props[name] = clean(sub, path: path + "/properties/" + name, changes: &changes)
                }
                out[key] = .object(props)
            case "items":
                if member.objectValue != nil {
                    out[key] = clean(member, path: path + "/items", changes: &changes)
                } else {
                    dropped.append("items (not a single schema)")
                }
            case "anyOf":
                out[key] = .array((member.arrayValue ?? []).enumerated().map { clean($1, path: path + "/anyOf/\($0)", changes: &changes) })
            default:
                out[key] = member
            }
        }
        if let values = out["enum"]?.arrayValue {
            var strings: [JSONValue] = []
            var others: [JSONValue] = []
            for v in values {
                if v.isNull {
                    out["nullable"] = true
                } else if v.stringValue != nil {
                    strings.append(v)
                } else {
                    others.append(v)
                }
            }
            if others.isEmpty {
                out["enum"] = .array(strings)
                if strings.count < values.count { changes.append("wrote null in the enum at \(at) as nullable") }
            } else {
                out.removeValue(forKey: "enum")
                let note = "One of: " + values.map(\.canonicalString).joined(separator: ", ") + "."
                out["description"] = .string(out["description"]?.stringValue.map { $0 + " " + note } ?? note)
                changes.append("moved the non-string enum at \(at) into the description (Gemini enums are strings)")
            }
        }
        if let required = out["required"]?.arrayValue {
            let declared = out["properties"]?.objectValue ?? [:]
            let kept = required.filter { $0.stringValue.map { declared[$0] != nil } ?? false }
            if kept.count != required.count {
                changes.append("removed required names that properties does not declare at \(at)")
            }
            if kept.isEmpty { out.removeValue(forKey: "required") } else { out["required"] = .array(kept) }
        }
        if !dropped.isEmpty {
            changes.append("removed \(dropped.sorted().joined(separator: ", ")) at \(at) (not in Gemini's Schema)")
        }
        return .object(out)
    }

    // MARK: - Response

    /// The usage block (`usageMetadata`). `promptTokenCount` includes the cached tokens;
    /// `thoughtsTokenCount` is not part of `candidatesTokenCount`, so output is their sum;
    /// tokens of tool-use prompts (`toolUsePromptTokenCount`) count as input.
    public static func usage(_ json: JSONValue) -> Usage {
        let thoughts = json["thoughtsTokenCount"]?.intValue ?? 0
        return Usage(
            inputTokens: (json["promptTokenCount"]?.intValue ?? 0) + (json["toolUsePromptTokenCount"]?.intValue ?? 0),
            outputTokens: (json["candidatesTokenCount"]?.intValue ?? 0) + thoughts,
            cacheReadTokens: json["cachedContentTokenCount"]?.intValue ?? 0,
            cacheWriteTokens: 0,
            reasoningTokens: thoughts
        )
    }

    static let filterReasons: Set<String> = [
        "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
        "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
    ]

    /// A candidate's `finishReason`; STOP is `toolCalls` when the answer calls functions.
    public static func finishReason(_ text: String?, hasToolCalls: Bool) -> FinishReason {
        switch text {
        case nil, "STOP", "FINISH_REASON_UNSPECIFIED": return hasToolCalls ? .toolCalls : .stop
        case "MAX_TOKENS": return .length
        case let reason? where filterReasons.contains(reason): return .contentFilter
        case let other?: return .other(other)
        }
    }

    /// What one `GenerateContentResponse` (the whole answer, or one streamed chunk) carries.
    struct Chunk {
        struct Call {
            var id: String?
            var name: String
            var arguments: String
            var signature: String?
        }

        var texts: [String] = []
        var calls: [Call] = []
        /// The candidate's finishReason, if this chunk carries it.
        var finishReason: String?
        /// `promptFeedback.blockReason`: the prompt was refused, and no candidate follows.
        var blockReason: String?
        var usage: Usage?
        var responseID: String?
        var modelVersion: String?
    }

    static func read(_ json: JSONValue) -> Chunk {
        var chunk = Chunk()
        chunk.responseID = json["responseId"]?.stringValue
        chunk.modelVersion = json["modelVersion"]?.stringValue
        if let usage = json["usageMetadata"], usage.objectValue != nil { chunk.usage = Self.usage(usage) }
        if let reason = json["promptFeedback"]?["blockReason"]?.stringValue, reason != "BLOCK_REASON_UNSPECIFIED" {
            chunk.blockReason = reason
        }
        let candidates = json["candidates"]?.arrayValue ?? []
        guard let candidate = candidates.first(where: { ($0["index"]?.intValue ?? 0) == 0 }) else { return chunk }
        for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
            if part["thought"]?.boolValue == true { continue }  // reasoning, not answer text
            if let call = part["functionCall"] {
                let args = call["args"] ?? .object([:])
                chunk.calls.append(Chunk.Call(
                    id: call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                    name: call["name"]?.stringValue ?? "",
                    arguments: args.isNull ? "{}" : args.canonicalString,
                    signature: part["thoughtSignature"]?.stringValue
                ))
            } else if let text = part["text"]?.stringValue, !text.isEmpty {
                chunk.texts.append(text)
            }
        }
        chunk.finishReason = candidate["finishReason"]?.stringValue
        return chunk
    }

    /// A non-streamed response.
    public static func response(
        _ json: JSONValue,
        provider: String,
        requestID: String?,
        recordSignature: (ToolCall, String) -> Void = { _, _ in }
    ) throws -> ModelResponse {
        if json["error"] != nil, json["candidates"] == nil {
            throw ProviderError.inStream(json, provider: provider, requestID: requestID)
        }
        let chunk = read(json)
        guard json["candidates"]?.arrayValue?.isEmpty == false || chunk.blockReason != nil else {
            throw WireJSON.missing("candidates", provider: provider, requestID: requestID ?? chunk.responseID)
        }
        var calls: [ToolCall] = []
        for (i, call) in chunk.calls.enumerated() {
            let toolCall = ToolCall(id: call.id ?? "call_\(i)", name: call.name, rawArguments: call.arguments)
            if let signature = call.signature { recordSignature(toolCall, signature) }
            calls.append(toolCall)
        }
        let reason: FinishReason = chunk.blockReason != nil && chunk.finishReason == nil
            ? .contentFilter : finishReason(chunk.finishReason, hasToolCalls: !calls.isEmpty)
        return ModelResponse(
            message: .assistant(chunk.texts.joined(), toolCalls: calls),
            finishReason: reason,
            usage: chunk.usage ?? .zero,
            model: chunk.modelVersion,
            requestID: requestID ?? chunk.responseID
        )
    }
}

/// Maps a Gemini `streamGenerateContent?alt=sse` stream to ModelStreamEvents.
///
/// Each event is a whole `GenerateContentResponse`. Text parts are deltas; `thought` parts
/// (reasoning) are skipped; each function call arrives whole in one part and is delivered at
/// once (with the call's `id` when Gemini gives one, else `call_0`, `call_1`… in order).
/// There is no `[DONE]`: the answer is complete when a chunk has carried a `finishReason`
/// (or a `promptFeedback.blockReason`) and the body ends; `usage` (the last
/// `usageMetadata` seen) and `finish` are delivered then. A body that ends before any
/// finishReason is an error.
public struct GeminiStreamMapper: WireEventMapper {
    private var sse = SSEDecoder(endOfStream: .dispatch)
    private var calls = ToolCallAssembler()
    private var callCount = 0
    private var finishReason: String?
    private var blocked = false
    private var usage: Usage?
    private let provider: String
    private var requestID: String?
    private let recordSignature: (ToolCall, String) -> Void

    public init(provider: String, requestID: String?, recordSignature: @escaping (ToolCall, String) -> Void = { _, _ in }) {
        self.provider = provider
        self.requestID = requestID
        self.recordSignature = recordSignature
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ModelStreamEvent]) throws {
        for event in sse.feed(bytes) { try handle(event, atEnd: false, into: &events) }
    }

    public mutating func finish(into events: inout [ModelStreamEvent]) throws {
        for event in sse.finish() { try handle(event, atEnd: true, into: &events) }
        guard finishReason != nil || blocked else {
            throw WireJSON.truncated("a chunk with finishReason", provider: provider, requestID: requestID)
        }
        if let usage { events.append(.usage(usage)) }
        let reason: FinishReason = blocked && finishReason == nil
            ? .contentFilter : GeminiWire.finishReason(finishReason, hasToolCalls: callCount > 0)
        events.append(.finish(reason, requestID: requestID))
    }

    private mutating func handle(_ event: ServerSentEvent, atEnd: Bool, into events: inout [ModelStreamEvent]) throws {
        if event.data.isEmpty { return }
        let json: JSONValue
        do {
            json = try WireJSON.parse(event.data, provider: provider, requestID: requestID, what: "a stream chunk")
        } catch {
            // An event cut off by the end of the body, not a malformed one.
            if atEnd { throw WireJSON.truncated("a chunk with finishReason", provider: provider, requestID: requestID) }
            throw error
        }
        if json["error"] != nil {
            throw ProviderError.inStream(json, provider: provider, requestID: requestID)
        }
        let chunk = GeminiWire.read(json)
        if requestID == nil { requestID = chunk.responseID }
        if let u = chunk.usage { usage = u }
        if chunk.blockReason != nil { blocked = true }
        for text in chunk.texts { events.append(.textDelta(text)) }
        for call in chunk.calls {
            let id = call.id ?? "call_\(callCount)"
            callCount += 1
            if let signature = call.signature {
                recordSignature(ToolCall(id: id, name: call.name, rawArguments: call.arguments), signature)
            }
            calls.whole(id: id, name: call.name, arguments: call.arguments, into: &events)
        }
        if let reason = chunk.finishReason { finishReason = reason }
    }
}
