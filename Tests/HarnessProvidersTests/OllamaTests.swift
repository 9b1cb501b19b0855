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
import Testing

@Suite struct OllamaTests {
    static func model(_ server: WireTestServer, apiKey: String? = nil, timeouts: ProviderTimeouts = .default) -> OllamaModel {
        OllamaModel(
            settings: ProviderSettings(baseURL: server.baseURL, providerName: "ollama", timeouts: timeouts),
            apiKey: apiKey
        )
    }

    static let weatherTool = ToolSpec(
        name: "get_current_weather",
        description: "Get the current weather for a location",
        inputSchema: [
            "type": "object",
            "properties": ["location": ["type": "string"], "format": ["type": "string", "enum": ["celsius", "fahrenheit"]]],
            "required": ["location", "format"],
        ]
    )

    static let request = ModelRequest(
        model: "llama3.2",
        system: "Be brief.",
        messages: [.user("What is the weather today in Paris and Rome?")],
        tools: [weatherTool]
    )

    static func mapper() -> OllamaStreamMapper { OllamaStreamMapper(provider: "ollama", requestID: nil) }

    static func ndjson(_ bytes: [UInt8]) -> WireTestServer.Reply {
        WireTestServer.Reply(status: 200, headers: [("content-type", "application/x-ndjson")], body: bytes)
    }

    static func providerError(_ error: (any Error)?) throws -> ProviderError {
        try #require(error as? ProviderError, "expected a ProviderError, got \(String(describing: error))")
    }

    // MARK: - Host

    @Test func hostNormalization() {
        let cases: [(String, String)] = [
            ("", "http://127.0.0.1:11434"),
            ("  ", "http://127.0.0.1:11434"),
            ("localhost", "http://localhost:11434"),
            ("0.0.0.0", "http://127.0.0.1:11434"),
            ("0.0.0.0:11434", "http://127.0.0.1:11434"),
            (":11435", "http://127.0.0.1:11435"),
            ("gpu-box:8080", "http://gpu-box:8080"),
            ("10.0.0.5", "http://10.0.0.5:11434"),
            ("http://gpu-box:11434", "http://gpu-box:11434"),
            ("http://gpu-box:11434/", "http://gpu-box:11434"),
            ("https://ollama.example.com", "https://ollama.example.com:443"),
            ("http://ollama.example.com", "http://ollama.example.com:80"),
            ("https://proxy.example.com/ollama/", "https://proxy.example.com:443/ollama"),
            ("ollama.com", "https://ollama.com:443"),
            ("::1", "http://[::1]:11434"),
            ("[::1]", "http://[::1]:11434"),
            ("[::]:11434", "http://[::1]:11434"),
            ("[fe80::1]:9000", "http://[fe80::1]:9000"),
            ("http://0.0.0.0:11434", "http://127.0.0.1:11434"),
            ("localhost:notaport", "http://localhost:11434"),
            ("localhost:99999", "http://localhost:11434"),
        ]
        for (input, expected) in cases {
            #expect(OllamaModel.normalizedHost(input) == expected, "\(input)")
        }
    }

    @Test func environment() {
        let local = OllamaModel(environment: [:])
        #expect(local.settings.baseURL == "http://127.0.0.1:11434")
        #expect(local.apiKey == nil)
        #expect(local.capabilities.structuredOutput)
        #expect(local.capabilities.toolCalling)
        #expect(local.providerName == "ollama")
        let remote = OllamaModel(environment: ["OLLAMA_HOST": "0.0.0.0:11500", "OLLAMA_API_KEY": "ol-key"])
        #expect(remote.settings.baseURL == "http://127.0.0.1:11500")
        #expect(remote.apiKey == "ol-key")
    }

    /// OLLAMA_HOST given without a scheme or port reaches the server; a key becomes a bearer token.
    @Test func hostWithoutSchemeReachesTheServer() async throws {
        let bytes = try Fixture.bytes("ollama-stream-text.ndjson")
        let server = try await WireTestServer.start { _ in Self.ndjson(bytes) }
        defer { server.shutdown() }
        let model = OllamaModel(environment: ["OLLAMA_HOST": "0.0.0.0:\(server.port)", "OLLAMA_API_KEY": "ol-secret-key"])
        let (events, error) = await collect(model.stream(Self.request))
        #expect(error == nil)
        #expect(summary(events).text.hasPrefix("The sky"))
        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/api/chat")
        #expect(sent.header("authorization") == "Bearer ol-secret-key")
    }

    // MARK: - Streams

    @Test func streamedText() async throws {
        let bytes = try Fixture.bytes("ollama-stream-text.ndjson")
        let server = try await WireTestServer.start { _ in Self.ndjson(bytes) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        checkGrammar(events)
        let s = summary(events)
        #expect(s.text == "The sky is blue because of Rayleigh scattering — ☀️.")
        #expect(s.usage == Usage(inputTokens: 26, outputTokens: 282))
        #expect(events.last == .finish(.stop, requestID: nil))
        #expect(server.requests.first?.header("authorization") == nil, "no key, no authorization header")
    }

    @Test func streamedToolCalls() async throws {
        let bytes = try Fixture.bytes("ollama-stream-tool-calls.ndjson")
        let server = try await WireTestServer.start { _ in Self.ndjson(bytes) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        checkGrammar(events)
        let s = summary(events)
        #expect(s.text == "", "thinking is not answer text")
        #expect(s.calls.map(\.id) == ["call_0", "call_1"])
        #expect(s.calls.map(\.name) == ["get_current_weather", "get_current_weather"])
        // Arguments arrive as objects and are written canonically (sorted keys, no spaces).
        #expect(s.calls.map(\.rawArguments) == [
            #"{"format":"celsius","location":"Paris, FR"}"#, #"{"format":"celsius","location":"Rome, IT"}"#,
        ])
        #expect(s.calls[0].arguments == ["location": "Paris, FR", "format": "celsius"])
        #expect(s.finish == .toolCalls)
        #expect(s.usage == Usage(inputTokens: 122, outputTokens: 33))
    }

    @Test func callIDsFromOllamaAreKept() throws {
        let line = #"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_k2c9","function":{"index":0,"name":"f","arguments":{"b":2,"a":1}}}]},"done":false}"#
            + "\n" + #"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}"#
        let (events, error) = mapAll(Self.mapper, Array(line.utf8), splits: [])
        #expect(error == nil)
        #expect(summary(events).calls == [ToolCall(id: "call_k2c9", name: "f", rawArguments: #"{"a":1,"b":2}"#)])
    }

    /// Every split in two, and byte by byte, gives the same events; so do CRLF line ends and
    /// a last line without a newline.
    @Test func everySplitAndLineEnding() throws {
        for name in ["ollama-stream-text.ndjson", "ollama-stream-tool-calls.ndjson"] {
            let bytes = try Fixture.bytes(name)
            let reference = mapAll(Self.mapper, bytes, splits: [])
            #expect(reference.error == nil)
            for k in 0...bytes.count {
                let split = mapAll(Self.mapper, bytes, splits: [k])
                #expect(split.error == nil, "\(name) at \(k)")
                #expect(normalized(split.events) == normalized(reference.events), "\(name) at \(k)")
            }
            #expect(normalized(mapAll(Self.mapper, bytes, splits: Array(0..<bytes.count)).events) == normalized(reference.events))

            var text = String(decoding: bytes, as: UTF8.self)
            while text.hasSuffix("\n") { text.removeLast() }
            let noFinalNewline = mapAll(Self.mapper, Array(text.utf8), splits: [])
            #expect(noFinalNewline.error == nil, "\(name): last line without a newline")
            #expect(noFinalNewline.events == reference.events)
            let crlf = Array(text.replacingOccurrences(of: "\n", with: "\r\n\n").utf8)  // and blank lines
            #expect(mapAll(Self.mapper, crlf, splits: []).events == reference.events, "\(name): CRLF")
        }
    }

    @Test func oneBytePerFrameOverHTTP() async throws {
        let bytes = try Fixture.bytes("ollama-stream-tool-calls.ndjson")
        let server = try await WireTestServer.start { _ in
            var reply = Self.ndjson(bytes)
            reply.chunking = .everyByte
            return reply
        }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        #expect(normalized(events) == normalized(mapAll(Self.mapper, bytes, splits: []).events))
    }

    /// No `done: true` line: an error after what was delivered; a last line cut short too.
    @Test func truncatedStreams() async throws {
        let bytes = try Fixture.bytes("ollama-stream-text.ndjson")
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let withoutDone = lines.dropLast().joined(separator: "\n") + "\n"
        let cut = mapAll(Self.mapper, Array(withoutDone.utf8), splits: [])
        let e = try Self.providerError(cut.error)
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("done"))
        #expect(summary(cut.events).text == "The sky is blue because of Rayleigh scattering — ☀️.")

        let midLine = Array(bytes.prefix(bytes.count - 20))
        #expect(try Self.providerError(mapAll(Self.mapper, midLine, splits: []).error).code == .invalidResponse)

        let server = try await WireTestServer.start { _ in Self.ndjson(Array(withoutDone.utf8)) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(try Self.providerError(error).code == .invalidResponse)
        #expect(!events.isEmpty)
    }

    @Test func errorLineInStream() throws {
        let body = #"{"model":"m","message":{"role":"assistant","content":"Hel"},"done":false}"# + "\n"
            + #"{"error":"an error was encountered while running the model: unexpected EOF"}"# + "\n"
        let (events, error) = mapAll(Self.mapper, Array(body.utf8), splits: [])
        #expect(events == [.textDelta("Hel")])
        let e = try Self.providerError(error)
        #expect(e.code == .server)
        #expect(e.message.contains("unexpected EOF"))

        let notFound = mapAll(Self.mapper, Array((#"{"error":"model 'x' not found"}"# + "\n").utf8), splits: [])
        #expect(try Self.providerError(notFound.error).code == .notFound)
    }

    // MARK: - Non-streamed

    @Test func nonStreamed() async throws {
        let body = String(decoding: try Fixture.bytes("ollama-chat.json"), as: UTF8.self)
        let server = try await WireTestServer.start { _ in .json(body) }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(Self.request)
        #expect(response.message.text == "Hello! How are you today?")
        #expect(response.finishReason == .stop)
        #expect(response.usage == Usage(inputTokens: 26, outputTokens: 298))
        #expect(response.model == "llama3.2")
        let sent = try JSONValue(parsingBytes: try #require(server.requests.first).body)
        #expect(sent["stream"] == false)
    }

    @Test func nonStreamedToolCallsAndLength() async throws {
        let body = """
            {"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":"",
             "tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Paris, FR"}}},
                           {"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Rome, IT"}}}]},
             "done_reason":"stop","done":true,"prompt_eval_count":122,"eval_count":33}
            """
        let truncated = #"{"model":"llama3.2","message":{"role":"assistant","content":"Once upon"},"done_reason":"length","done":true,"prompt_eval_count":5,"eval_count":2}"#
        let server = try await WireTestServer.start { request in
            request.bodyText.contains("story") ? .json(truncated) : .json(body)
        }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(Self.request)
        #expect(response.finishReason == .toolCalls)
        #expect(response.message.toolCalls.map(\.id) == ["call_0", "call_1"])
        #expect(response.message.toolCalls[1].rawArguments == #"{"format":"celsius","location":"Rome, IT"}"#)
        let story = try await Self.model(server).complete(ModelRequest(model: "llama3.2", messages: [.user("a story")]))
        #expect(story.finishReason == .length)
        #expect(story.message.text == "Once upon")
    }

    // MARK: - Errors

    @Test func httpErrors() async throws {
        let notFound = String(decoding: try Fixture.bytes("ollama-error-not-found.json"), as: UTF8.self)
        let cases: [(Int, String, ProviderError.Code)] = [
            (404, notFound, .notFound),
            (400, #"{"error":"invalid format: expected \"json\" or a JSON schema"}"#, .invalidRequest),
            (500, #"{"error":"model requires more system memory (12.0 GiB) than is available (4.0 GiB)"}"#, .server),
        ]
        for (status, body, code) in cases {
            let server = try await WireTestServer.start { _ in .json(body, status: status) }
            defer { server.shutdown() }
            let (events, error) = await collect(Self.model(server, apiKey: "ol-secret-key").stream(Self.request))
            #expect(events.isEmpty)
            let e = try Self.providerError(error)
            #expect(e.code == code, "HTTP \(status)")
            #expect(e.status == status)
            let expected = try JSONValue(parsing: body)["error"]?.stringValue
            #expect(e.message == expected)
        }
    }

    // MARK: - Request

    @Test func requestBody() async throws {
        let bytes = try Fixture.bytes("ollama-stream-text.ndjson")
        let server = try await WireTestServer.start { _ in Self.ndjson(bytes) }
        defer { server.shutdown() }
        let call = ToolCall(id: "call_0", name: "get_current_weather", rawArguments: #"{"location":"Paris, FR","format":"celsius"}"#)
        let schema: JSONValue = ["type": "object", "properties": ["age": ["type": "integer"]], "required": ["age"]]
        let request = ModelRequest(
            model: "llava",
            system: "sys",
            messages: [
                Message(role: .user, content: [
                    .text("what is in this image?"),
                    .image(ImageContent(base64Data: "iVBORw0KGgo", mediaType: "image/png")),
                    .image(ImageContent(url: "data:image/png;base64,AAAA")),
                ]),
                .assistant("", toolCalls: [call]),
                .tool(ToolResult(toolCallID: "call_0", name: "get_current_weather", content: "18 degrees")),
            ],
            tools: [Self.weatherTool],
            responseFormat: .jsonSchema(name: "age", schema: schema, strict: true),
            options: GenerationOptions(temperature: 0, topP: 0.9, maxOutputTokens: 100, seed: 101, stopSequences: ["\n", "user:"])
        )
        var model = Self.model(server)
        model.think = .enabled(true)
        model.keepAlive = "10m"
        _ = await collect(model.stream(request))
        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/api/chat")
        let body = try JSONValue(parsingBytes: sent.body)
        #expect(body["model"] == "llava")
        #expect(body["stream"] == true)
        #expect(body["messages"] == [
            ["role": "system", "content": "sys"],
            ["role": "user", "content": "what is in this image?", "images": ["iVBORw0KGgo", "AAAA"]],
            ["role": "assistant", "content": "", "tool_calls": [
                ["id": "call_0", "function": ["name": "get_current_weather", "arguments": ["location": "Paris, FR", "format": "celsius"]]],
            ]],
            ["role": "tool", "content": "18 degrees", "tool_name": "get_current_weather", "tool_call_id": "call_0"],
        ])
        #expect(body["tools"] == [["type": "function", "function": [
            "name": "get_current_weather", "description": "Get the current weather for a location", "parameters": Self.weatherTool.inputSchema,
        ]]])
        #expect(body["format"] == schema)
        #expect(body["options"] == ["temperature": 0.0, "top_p": 0.9, "num_predict": 100, "seed": 101, "stop": ["\n", "user:"]])
        #expect(body["think"] == true)
        #expect(body["keep_alive"] == "10m")
    }

    @Test func toolChoiceAndJSONMode() async throws {
        let bytes = try Fixture.bytes("ollama-stream-text.ndjson")
        let server = try await WireTestServer.start { _ in Self.ndjson(bytes) }
        defer { server.shutdown() }
        let model = Self.model(server)
        var request = Self.request
        request.tools.append(ToolSpec(name: "other", description: "x"))
        request.responseFormat = .jsonObject

        request.toolChoice = .none
        _ = await collect(model.stream(request))
        var body = try JSONValue(parsingBytes: try #require(server.requests.last).body)
        #expect(body["tools"] == nil)
        #expect(body["format"] == "json")
        #expect(body["options"] == nil && body["think"] == nil)

        request.toolChoice = .tool("other")
        _ = await collect(model.stream(request))
        body = try JSONValue(parsingBytes: try #require(server.requests.last).body)
        #expect(body["tools"]?.arrayValue?.map { $0["function"]?["name"] } == ["other"])
    }

    @Test func imageURLsAreRefused() async throws {
        let model = OllamaModel(host: "127.0.0.1:9")  // never contacted
        let request = ModelRequest(model: "llava", messages: [Message(role: .user, content: [.image(ImageContent(url: "https://example.com/a.png"))])])
        let (events, error) = await collect(model.stream(request))
        #expect(events.isEmpty)
        #expect(try Self.providerError(error).code == .invalidRequest)
        await #expect(throws: ProviderError.self) { try await model.complete(request) }
    }

    // MARK: - NDJSON

    @Test func lineSplitter() {
        let text = "{\"a\":1}\r\n\n  \n{\"b\":\"é\"}\n{\"c\":3}"
        let bytes = Array(text.utf8)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var splitter = NDJSONLineSplitter()
            var lines: [String] = []
            var i = 0
            while i < bytes.count {
                let n = Int.random(in: 1...4, using: &rng)
                lines += splitter.feed(bytes[i..<min(bytes.count, i + n)])
                i += n
            }
            #expect(splitter.hasPartialLine)
            if let last = splitter.finish() { lines.append(last) }
            #expect(lines == [#"{"a":1}"#, #"{"b":"é"}"#, #"{"c":3}"#])
        }
    }
}
