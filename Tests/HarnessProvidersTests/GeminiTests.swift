//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
import HarnessProviders
import HarnessProvidersTesting
import Synchronization
import Testing

@Suite struct GeminiTests {
    static let key = "AIzaSyTEST-gemini-key-0123456789abcdef"

    static func model(_ server: WireTestServer, key: String? = GeminiTests.key, timeouts: ProviderTimeouts = .default) -> GeminiModel {
        GeminiModel(
            apiKey: key,
            settings: ProviderSettings(baseURL: server.baseURL + "/v1beta", providerName: "gemini", timeouts: timeouts)
        )
    }

    static let weatherTool = ToolSpec(
        name: "get_weather",
        description: "Weather by city",
        inputSchema: [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": ["city": ["type": "string"], "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]]],
            "required": ["city"],
            "additionalProperties": false,
        ]
    )

    static let request = ModelRequest(
        model: "gemini-2.5-flash",
        system: "Be brief.",
        messages: [.user("What's the weather in Paris and Rome?")],
        tools: [weatherTool]
    )

    static func mapper() -> GeminiStreamMapper { GeminiStreamMapper(provider: "gemini", requestID: nil) }

    static func providerError(_ error: (any Error)?) throws -> ProviderError {
        try #require(error as? ProviderError, "expected a ProviderError, got \(String(describing: error))")
    }

    // MARK: - Streams

    @Test func streamedText() async throws {
        let bytes = try Fixture.bytes("gemini-stream-text.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        checkGrammar(events)
        let s = summary(events)
        #expect(s.text == "The sky is blue because air scatters short wavelengths — Rayleigh scattering ☀️.")
        #expect(s.calls.isEmpty)
        // The last usageMetadata wins (the earlier chunks carry a partial one).
        #expect(s.usage == Usage(inputTokens: 8, outputTokens: 17))
        // No request-id header: the responseId of the body names the request.
        #expect(events.last == .finish(.stop, requestID: "mZ4gaO7kI7-Y1dkPxYmXsQg"))
    }

    @Test func streamedParallelFunctionCallsWithThoughtsAndCachedTokens() async throws {
        let bytes = try Fixture.bytes("gemini-stream-parallel-function-calls.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes, headers: [("x-goog-request-id", "req-g1")]) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        checkGrammar(events)
        let s = summary(events)
        #expect(s.text == "", "thought parts are reasoning, not answer text")
        #expect(s.calls.map(\.id) == ["call_0", "call_1"])
        #expect(s.calls.map(\.name) == ["get_weather", "get_weather"])
        #expect(s.calls.map(\.rawArguments) == [#"{"city":"Paris","unit":"celsius"}"#, #"{"city":"Rome","unit":"celsius"}"#])
        #expect(s.calls[1].arguments == ["city": "Rome", "unit": "celsius"])
        #expect(s.finish == .toolCalls)
        // input = prompt (cached included) + tool-use prompt; output = candidates + thoughts.
        #expect(s.usage == Usage(inputTokens: 2097 + 12, outputTokens: 36 + 53, cacheReadTokens: 2048, reasoningTokens: 53))
        #expect(events.last == .finish(.toolCalls, requestID: "req-g1"))
        // Each call is delivered whole: start, all its arguments, complete.
        #expect(events.prefix(6) == [
            .toolCallStart(id: "call_0", name: "get_weather"),
            .toolCallArgumentsDelta(id: "call_0", delta: #"{"city":"Paris","unit":"celsius"}"#),
            .toolCallComplete(s.calls[0]),
            .toolCallStart(id: "call_1", name: "get_weather"),
            .toolCallArgumentsDelta(id: "call_1", delta: #"{"city":"Rome","unit":"celsius"}"#),
            .toolCallComplete(s.calls[1]),
        ])
    }

    /// The signature Gemini gave with the first call goes back with it; the second call (which
    /// had none) gets none, and no placeholder is added to a turn that has a real signature.
    @Test func thoughtSignaturesGoBackWithTheirCalls() async throws {
        let bytes = try Fixture.bytes("gemini-stream-parallel-function-calls.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        let model = Self.model(server)
        let (events, _) = await collect(model.stream(Self.request))
        let calls = summary(events).calls
        var next = Self.request
        next.messages += [
            .assistant("", toolCalls: calls),
            .tool(ToolResult(toolCallID: "call_0", name: "get_weather", content: #"{"temp":18}"#)),
            .tool(ToolResult(toolCallID: "call_1", name: "get_weather", content: "21 degrees")),
        ]
        _ = await collect(model.stream(next))
        let body = try JSONValue(parsingBytes: try #require(server.requests.last).body)
        let parts = try #require(body["contents"]?[1]?["parts"]?.arrayValue)
        #expect(parts.count == 2)
        #expect(parts[0]["thoughtSignature"] == "CiQB0e2Kb7Jx0lq3m0z9yQ2c0xZt5J1kQm9uZXlTaWduYXR1cmVFeGFtcGxlAQ==")
        #expect(parts[1]["thoughtSignature"] == nil)
        #expect(parts[0]["functionCall"] == ["name": "get_weather", "args": ["city": "Paris", "unit": "celsius"]], "made-up ids are not sent")
    }

    /// Every fixture split in two at every byte gives the same events once deltas are merged.
    @Test func everySplitInProcess() throws {
        for name in ["gemini-stream-text.sse", "gemini-stream-parallel-function-calls.sse"] {
            let bytes = try Fixture.bytes(name)
            let reference = mapAll(Self.mapper, bytes, splits: [])
            #expect(reference.error == nil, "\(name)")
            for k in 0...bytes.count {
                let split = mapAll(Self.mapper, bytes, splits: [k])
                #expect(split.error == nil, "\(name) at \(k)")
                #expect(normalized(split.events) == normalized(reference.events), "\(name) at \(k)")
            }
            let bytewise = mapAll(Self.mapper, bytes, splits: Array(0..<bytes.count))
            #expect(normalized(bytewise.events) == normalized(reference.events), "\(name) byte by byte")
        }
    }

    /// Over HTTP, one byte per chunked frame.
    @Test func oneBytePerFrameOverHTTP() async throws {
        let bytes = try Fixture.bytes("gemini-stream-parallel-function-calls.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes, chunking: .everyByte) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        #expect(normalized(events) == normalized(mapAll(Self.mapper, bytes, splits: []).events))
    }

    /// LF-only framing (a proxy that rewrites line endings) and a last event without the blank
    /// line after it are read the same.
    @Test func lfFramingAndNoFinalBlankLine() throws {
        let bytes = try Fixture.bytes("gemini-stream-text.sse")
        var text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        while text.hasSuffix("\n") { text.removeLast() }
        let lf = mapAll(Self.mapper, Array(text.utf8), splits: [])
        #expect(lf.error == nil)
        #expect(normalized(lf.events) == normalized(mapAll(Self.mapper, bytes, splits: []).events))
    }

    /// A stream that ends before a chunk with finishReason is an error, after the text and the
    /// whole calls it did deliver; so is one cut inside its last event.
    @Test func truncatedStreams() throws {
        let bytes = try Fixture.bytes("gemini-stream-parallel-function-calls.sse")
        let text = String(decoding: bytes, as: UTF8.self)
        let lastEvent = try #require(text.range(of: "data: ", options: .backwards))
        let withoutLast = Array(text[..<lastEvent.lowerBound].utf8)
        let cut = mapAll(Self.mapper, withoutLast, splits: [])
        let e = try Self.providerError(cut.error)
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("finishReason"))
        #expect(summary(cut.events).calls.count == 2, "the whole calls already received are delivered")
        #expect(!cut.events.contains { if case .finish = $0 { true } else { false } })

        let midEvent = Array(text.utf8.prefix(text.utf8.count - 40))
        let cut2 = mapAll(Self.mapper, midEvent, splits: [])
        #expect(try Self.providerError(cut2.error).code == .invalidResponse)
    }

    @Test func truncatedOverHTTP() async throws {
        let bytes = try Fixture.bytes("gemini-stream-text.sse")
        let server = try await WireTestServer.start { _ in .sse(Array(bytes.prefix(bytes.count - 30))) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(try Self.providerError(error).code == .invalidResponse)
        #expect(summary(events).text.hasPrefix("The sky is blue"))
    }

    @Test func errorChunkInStream() throws {
        let body = """
            data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}]}\r\n\r\n\
            data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n
            """
        let (events, error) = mapAll(Self.mapper, Array(body.utf8), splits: [])
        #expect(events == [.textDelta("Hel")])
        let e = try Self.providerError(error)
        #expect(e.code == .overloaded)
        #expect(e.providerCode == "UNAVAILABLE")
    }

    @Test func finishReasons() throws {
        func finish(_ reason: String, parts: String = #"[{"text":"x"}]"#) -> FinishReason? {
            let body = #"data: {"candidates":[{"content":{"parts":\#(parts),"role":"model"},"finishReason":"\#(reason)","index":0}]}"# + "\r\n\r\n"
            return summary(mapAll(Self.mapper, Array(body.utf8), splits: []).events).finish
        }
        #expect(finish("STOP") == .stop)
        #expect(finish("STOP", parts: #"[{"functionCall":{"name":"f","args":{}}}]"#) == .toolCalls)
        #expect(finish("MAX_TOKENS") == .length)
        for filtered in ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"] {
            #expect(finish(filtered) == .contentFilter, "\(filtered)")
        }
        #expect(finish("MALFORMED_FUNCTION_CALL") == .other("MALFORMED_FUNCTION_CALL"))
        #expect(finish("OTHER") == .other("OTHER"))
    }

    /// A prompt the safety system refused: no candidates, promptFeedback.blockReason.
    @Test func blockedPrompt() async throws {
        let blocked = #"{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH"}]},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash"}"#
        let streamed = mapAll(Self.mapper, Array(("data: " + blocked + "\r\n\r\n").utf8), splits: [])
        #expect(streamed.error == nil)
        #expect(streamed.events == [.usage(Usage(inputTokens: 9)), .finish(.contentFilter, requestID: nil)])

        let server = try await WireTestServer.start { _ in .json(blocked) }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(Self.request)
        #expect(response.finishReason == .contentFilter)
        #expect(response.message.text == "")
    }

    // MARK: - Non-streamed

    @Test func nonStreamed() async throws {
        let body = try Fixture.bytes("gemini-generate-content.json")
        let server = try await WireTestServer.start { _ in .json(String(decoding: body, as: UTF8.self)) }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(Self.request)
        #expect(response.message.text == "Tides are caused mainly by the Moon's gravity, with help from the Sun.")
        #expect(response.finishReason == .stop)
        #expect(response.usage == Usage(inputTokens: 11, outputTokens: 14 + 70, reasoningTokens: 70))
        #expect(response.model == "gemini-2.5-flash")
        #expect(response.requestID == "Wq8gaJ6eFo6m1dkPk6ybqAo")
        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/v1beta/models/gemini-2.5-flash:generateContent")
        #expect(sent.header("accept") != "text/event-stream")
    }

    /// Newer Gemini versions give calls an id: it is kept, and sent back with the call and
    /// with its result.
    @Test func callIDsFromGemini() async throws {
        let body = """
            {"candidates":[{"content":{"role":"model","parts":[
              {"functionCall":{"id":"fc-7a1","name":"get_weather","args":{"city":"Oslo"}}},
              {"functionCall":{"name":"get_weather","args":{"city":"Bergen"}}}]},"finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":10,"totalTokenCount":30}}
            """
        let server = try await WireTestServer.start { _ in .json(body) }
        defer { server.shutdown() }
        let model = Self.model(server)
        let response = try await model.complete(Self.request)
        #expect(response.finishReason == .toolCalls)
        #expect(response.message.toolCalls.map(\.id) == ["fc-7a1", "call_1"])
        #expect(response.message.toolCalls[0].rawArguments == #"{"city":"Oslo"}"#)

        var next = Self.request
        next.messages += [
            response.message,
            .tool(ToolResult(toolCallID: "fc-7a1", name: "get_weather", content: "rain")),
            .tool(ToolResult(toolCallID: "call_1", name: "get_weather", content: "boom", isError: true)),
        ]
        _ = try await model.complete(next)
        let sent = try JSONValue(parsingBytes: try #require(server.requests.last).body)
        let contents = try #require(sent["contents"]?.arrayValue)
        #expect(contents.count == 3)
        #expect(contents[1]["parts"]?[0]?["functionCall"] == ["id": "fc-7a1", "name": "get_weather", "args": ["city": "Oslo"]])
        #expect(contents[1]["parts"]?[1]?["functionCall"] == ["name": "get_weather", "args": ["city": "Bergen"]])
        // Gemini gave no signature: the placeholder goes on the turn's first call.
        #expect(contents[1]["parts"]?[0]?["thoughtSignature"] == "skip_thought_signature_validator")
        #expect(contents[1]["parts"]?[1]?["thoughtSignature"] == nil)
        #expect(contents[2] == [
            "role": "user",
            "parts": [
                ["functionResponse": ["id": "fc-7a1", "name": "get_weather", "response": ["result": "rain"]]],
                ["functionResponse": ["name": "get_weather", "response": ["error": "boom"]]],
            ],
        ])
    }

    // MARK: - Request

    @Test func requestBody() async throws {
        let bytes = try Fixture.bytes("gemini-stream-text.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        let call = ToolCall(id: "call_0", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)
        let request = ModelRequest(
            model: "gemini-2.5-flash",
            system: "sys",
            messages: [
                .user("hi"),
                .assistant("Let me check.", toolCalls: [call]),
                .tool(ToolResult(toolCallID: "call_0", name: "", content: #"{"temp":18,"sky":"clear"}"#)),
                .system("Answer in French."),
                Message(role: .user, content: [
                    .text("look"),
                    .image(ImageContent(base64Data: "AAAA", mediaType: "image/png")),
                    .image(ImageContent(url: "data:image/jpeg;base64,BBBB")),
                    .image(ImageContent(url: "https://example.com/cat.webp")),
                ]),
            ],
            tools: [Self.weatherTool, ToolSpec(name: "now", description: "The time")],
            toolChoice: .tool("get_weather"),
            responseFormat: .jsonSchema(name: "answer", schema: ["type": "object", "properties": ["a": ["type": "string"]], "additionalProperties": false], strict: true),
            options: GenerationOptions(temperature: 0.5, topP: 0.9, maxOutputTokens: 100, seed: 7, stopSequences: ["END"])
        )
        _ = await collect(Self.model(server).stream(request))
        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        #expect(sent.header("x-goog-api-key") == Self.key)
        #expect(sent.header("authorization") == nil)
        #expect(!sent.uri.contains(Self.key) && !sent.uri.contains("key="), "the key is never in the URL")
        #expect(sent.header("accept") == "text/event-stream")

        let body = try JSONValue(parsingBytes: sent.body)
        #expect(body["systemInstruction"] == ["parts": [["text": "sys"], ["text": "Answer in French."]]])
        let contents = try #require(body["contents"]?.arrayValue)
        #expect(contents.count == 4)
        #expect(contents[0] == ["role": "user", "parts": [["text": "hi"]]])
        #expect(contents[1] == ["role": "model", "parts": [
            ["text": "Let me check."],
            ["functionCall": ["name": "get_weather", "args": ["city": "Paris"]], "thoughtSignature": "skip_thought_signature_validator"],
        ]])
        // The result's name is taken from its call; a JSON object result is sent as it is.
        #expect(contents[2] == ["role": "user", "parts": [["functionResponse": ["name": "get_weather", "response": ["temp": 18, "sky": "clear"]]]]])
        #expect(contents[3] == ["role": "user", "parts": [
            ["text": "look"],
            ["inlineData": ["mimeType": "image/png", "data": "AAAA"]],
            ["inlineData": ["mimeType": "image/jpeg", "data": "BBBB"]],
            ["fileData": ["fileUri": "https://example.com/cat.webp", "mimeType": "image/webp"]],
        ]])
        #expect(body["tools"] == [["functionDeclarations": [
            ["name": "get_weather", "description": "Weather by city", "parameters": [
                "type": "object",
                "properties": ["city": ["type": "string"], "unit": ["type": "string", "enum": ["celsius", "fahrenheit"]]],
                "required": ["city"],
                "description": "Constraints: additionalProperties false.",
            ]],
            ["name": "now", "description": "The time"],  // no properties: no parameters
        ]]])
        #expect(body["toolConfig"] == ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": ["get_weather"]]])
        #expect(body["generationConfig"] == [
            "temperature": 0.5, "topP": 0.9, "maxOutputTokens": 100, "seed": 7, "stopSequences": ["END"],
            "responseMimeType": "application/json",
            "responseSchema": ["type": "object", "properties": ["a": ["type": "string"]], "description": "Constraints: additionalProperties false."],
        ])
    }

    @Test func toolChoicesAndJSONModes() async throws {
        let bytes = try Fixture.bytes("gemini-stream-text.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        var model = Self.model(server)
        let choices: [(ToolChoice, String)] = [(.auto, "AUTO"), (.none, "NONE"), (.required, "ANY")]
        for (choice, mode) in choices {
            var request = Self.request
            request.toolChoice = choice
            _ = await collect(model.stream(request))
            let body = try JSONValue(parsingBytes: try #require(server.requests.last).body)
            #expect(body["toolConfig"] == ["functionCallingConfig": ["mode": .string(mode)]])
        }
        var request = ModelRequest(model: "tunedModels/my-model-1", messages: [.user("x")], responseFormat: .jsonObject)
        _ = await collect(model.stream(request))
        var sent = try #require(server.requests.last)
        #expect(sent.uri == "/v1beta/tunedModels/my-model-1:streamGenerateContent?alt=sse")
        var body = try JSONValue(parsingBytes: sent.body)
        #expect(body["generationConfig"] == ["responseMimeType": "application/json"])
        #expect(body["tools"] == nil && body["toolConfig"] == nil && body["systemInstruction"] == nil)

        let schema: JSONValue = ["type": "object", "$defs": ["n": ["type": "integer"]], "properties": ["n": ["$ref": "#/$defs/n"]], "additionalProperties": false]
        model.jsonSchemaField = .responseJsonSchema
        request = ModelRequest(model: "models/gemini-2.5-pro", messages: [.user("x")], responseFormat: .jsonSchema(name: "n", schema: schema, strict: true))
        _ = await collect(model.stream(request))
        sent = try #require(server.requests.last)
        #expect(sent.uri == "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
        body = try JSONValue(parsingBytes: sent.body)
        #expect(body["generationConfig"] == ["responseMimeType": "application/json", "responseJsonSchema": schema])
    }

    /// What Gemini's `Schema` cannot take is rewritten or dropped, and each change is listed.
    @Test func schemaCleaning() {
        let schema: JSONValue = [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "urn:x",
            "type": "object",
            "definitions": ["Point": ["type": "object", "properties": ["x": ["type": "number"]], "required": ["x"]]],
            "properties": [
                "at": ["$ref": "#/definitions/Point"],
                "level": ["type": "integer", "enum": [1, 2, 3]],
                "mode": ["enum": ["a", "b", nil]],
                "tags": ["type": "array", "items": ["type": "string", "examples": ["x"]], "uniqueItems": true],
                "pair": ["type": "array", "items": [["type": "string"], ["type": "integer"]]],
                "note": ["type": ["string", "null"], "readOnly": true],
            ],
            "required": ["at", "ghost"],
            "additionalProperties": false,
        ]
        let (out, changes) = GeminiWire.schema(schema)
        #expect(out["$schema"] == nil && out["$id"] == nil && out["definitions"] == nil && out["additionalProperties"] == nil)
        #expect(out["properties"]?["at"] == ["type": "object", "properties": ["x": ["type": "number"]], "required": ["x"]])
        #expect(out["properties"]?["level"] == ["type": "integer", "description": "One of: 1, 2, 3."])
        #expect(out["properties"]?["mode"] == ["enum": ["a", "b"], "nullable": true])
        #expect(out["properties"]?["tags"]?["items"] == ["type": "string"])
        #expect(out["properties"]?["pair"] == ["type": "array"])
        #expect(out["properties"]?["note"] == ["type": "string", "nullable": true])
        #expect(out["required"] == ["at"])
        #expect(changes.contains { $0.contains("inlined $ref") })
        #expect(changes.contains { $0.contains("examples") })
        #expect(changes.contains { $0.contains("readOnly") })
        #expect(changes.contains { $0.contains("non-string enum") })
        #expect(changes.contains { $0.contains("required names") })
        #expect(!changes.isEmpty)
    }

    // MARK: - Errors

    @Test func errorBodies() async throws {
        let cases: [(String, Int, ProviderError.Code, String?, Duration?)] = [
            ("gemini-error-resource-exhausted.json", 429, .rateLimited, "RESOURCE_EXHAUSTED", .seconds(37)),
            ("gemini-error-api-key-invalid.json", 400, .authentication, "API_KEY_INVALID", nil),
            ("gemini-error-unavailable.json", 503, .overloaded, "UNAVAILABLE", nil),
            ("gemini-error-invalid-argument.json", 400, .invalidRequest, "INVALID_ARGUMENT", nil),
            ("gemini-error-context-length.json", 400, .contextLengthExceeded, "INVALID_ARGUMENT", nil),
            ("gemini-error-permission-denied.json", 403, .permission, "PERMISSION_DENIED", nil),
            ("gemini-error-not-found.json", 404, .notFound, "NOT_FOUND", nil),
        ]
        for (name, status, code, providerCode, retryAfter) in cases {
            let body = String(decoding: try Fixture.bytes(name), as: UTF8.self)
            let server = try await WireTestServer.start { _ in .json(body, status: status) }
            defer { server.shutdown() }
            let (events, error) = await collect(Self.model(server).stream(Self.request))
            #expect(events.isEmpty)
            let e = try Self.providerError(error)
            #expect(e.code == code, "\(name)")
            #expect(e.status == status, "\(name)")
            #expect(e.providerCode == providerCode, "\(name)")
            #expect(e.retryAfter == retryAfter, "\(name)")
            #expect(e.isRetryable == (code == .rateLimited || code == .overloaded), "\(name)")
            #expect(!String(describing: e).contains(Self.key), "\(name): the key leaked")
        }
    }

    /// A Retry-After header wins over RetryInfo; RetryInfo takes fractions.
    @Test func retryDelays() async throws {
        let body = #"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.500s"}]}}"#
        let server = try await WireTestServer.start { request in
            request.header("x-test") == "header" ? .json(body, status: 429, headers: [("retry-after", "3")]) : .json(body, status: 429)
        }
        defer { server.shutdown() }
        let e1 = try await #require(throws: ProviderError.self) { try await Self.model(server).complete(Self.request) }
        #expect(e1.retryAfter == .milliseconds(1500))
        var model = Self.model(server)
        model.settings.headers = [("x-test", "header")]
        let e2 = try await #require(throws: ProviderError.self) { try await model.complete(Self.request) }
        #expect(e2.retryAfter == .seconds(3))
    }

    /// A proxy that echoes the key in its error body does not leak it into the error.
    @Test func keyNeverInErrors() async throws {
        let server = try await WireTestServer.start { request in
            let key = request.header("x-goog-api-key") ?? ""
            return .json(#"{"error":{"code":400,"message":"API key \#(key) not valid for \#(request.uri)","status":"INVALID_ARGUMENT"}}"#, status: 400)
        }
        defer { server.shutdown() }
        let odd = "not-a-google-shaped-key-42"  // no AIza prefix: only the configured secret catches it
        for key in [Self.key, odd] {
            let e = try await #require(throws: ProviderError.self) { try await Self.model(server, key: key).complete(Self.request) }
            #expect(!String(describing: e).contains(key))
            #expect(e.message.contains("[redacted]"))
        }
        for request in server.requests { #expect(!request.uri.contains(Self.key) && !request.uri.contains(odd)) }
    }

    // MARK: - Configuration

    @Test func environment() throws {
        let both = try GeminiModel(environment: ["GEMINI_API_KEY": "g-key", "GOOGLE_API_KEY": "google-key"])
        #expect(both.apiKey == "g-key")
        #expect(both.settings.baseURL == "https://generativelanguage.googleapis.com/v1beta")
        let fallback = try GeminiModel(environment: ["GEMINI_API_KEY": "", "GOOGLE_API_KEY": "google-key"])
        #expect(fallback.apiKey == "google-key")
        let proxied = try GeminiModel(environment: ["GEMINI_BASE_URL": "https://proxy.example/v1beta"])
        #expect(proxied.apiKey == nil)
        #expect(proxied.settings.baseURL == "https://proxy.example/v1beta")
        #expect(proxied.capabilities.structuredOutput && proxied.capabilities.toolCalling)

        let missing = try #require(throws: ProviderConfigurationError.self) { try GeminiModel(environment: [:]) }
        #expect(missing.description.contains("GEMINI_API_KEY is not set"))
        #expect(missing.description.contains("GOOGLE_API_KEY is not set"))
        let empty = try #require(throws: ProviderConfigurationError.self) { try GeminiModel(environment: ["GEMINI_API_KEY": " "]) }
        #expect(empty.description.contains("GEMINI_API_KEY is empty"))
    }
}
