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

@Suite struct AnthropicTests {
    static let key = "sk-ant-api03-SECRETSECRETSECRET1234"
    static let conformance = "openai-anthropic-wire/sse-anthropic-messages"
    /// The recorded streams that run to `message_stop` with nothing cut off.
    static let completeFixtures = ["basic_response", "tool_use_response", "refusal_response", "stream-a-toolrefusal"]
    /// Every stream fixture, recorded and ours.
    static let allStreams: [[UInt8]] = {
        let recorded = (completeFixtures + ["incomplete_partial_json_response"]).compactMap { try? fixture($0) }
        let written = ["parallel_tool_use_cached", "thinking", "error_mid_stream"].compactMap { try? ours($0) }
        return recorded + written
    }()

    static func fixture(_ name: String) throws -> [UInt8] {
        try Conformance.bytes("\(conformance)/\(name).sse")
    }

    static func ours(_ name: String) throws -> [UInt8] {
        try Fixture.bytes("anthropic/\(name).sse")
    }

    static func model(_ server: WireTestServer, timeouts: ProviderTimeouts = .default) -> AnthropicModel {
        AnthropicModel(
            apiKey: key,
            settings: ProviderSettings(baseURL: server.baseURL, providerName: "anthropic", timeouts: timeouts)
        )
    }

    static func mapper() -> AnthropicStreamMapper {
        AnthropicStreamMapper(provider: "anthropic", requestID: nil)
    }

    static let request = ModelRequest(
        model: "claude-sonnet-4-5",
        system: "Be brief.",
        messages: [.user("What's the weather in Paris?")],
        tools: [ToolSpec(name: "get_weather", description: "Weather by city", inputSchema: ["type": "object", "properties": ["city": ["type": "string"]]])]
    )

    static func providerError(_ error: (any Error)?) throws -> ProviderError {
        try #require(error as? ProviderError, "expected a ProviderError, got \(String(describing: error))")
    }

    // MARK: Recorded streams

    /// With the decoder dispatching the event pending at end of body, every recorded stream
    /// gives the events expected.json counts for an EOF-flushing parse, in its order.
    @Test func recordedStreamsDecodeToEveryEvent() throws {
        let expected = try Conformance.json("\(Self.conformance)/expected.json")
        for name in Self.completeFixtures + ["incomplete_partial_json_response"] {
            let file = try #require(expected["files"]?["\(name).sse"])
            var decoder = SSEDecoder(endOfStream: .dispatch)
            let events = decoder.feed(try Self.fixture(name)) + decoder.finish()
            #expect(events.count == file["eof_flush_event_count"]?.intValue, "\(name)")
            #expect(events.map { JSONValue.string($0.type) } == file["event_types"]?.arrayValue, "\(name)")
        }
    }

    /// Every complete recorded stream, replayed by a real server, adds up to the final message
    /// of expected.json: text, `tool_use` blocks as tool calls (server_tool_use is not one),
    /// stop reason and usage. The event grammar holds.
    @Test func recordedStreamsMatchExpected() async throws {
        let expected = try Conformance.json("\(Self.conformance)/expected.json")
        for name in Self.completeFixtures {
            let bytes = try Self.fixture(name)
            let server = try await WireTestServer.start { _ in .sse(bytes) }
            defer { server.shutdown() }
            let (events, error) = await collect(Self.model(server).stream(Self.request))
            #expect(error == nil, "\(name): \(String(describing: error))")
            checkGrammar(events)
            let s = summary(events)
            let message = try #require(expected["files"]?["\(name).sse"]?["final_message"])
            let blocks = message["content"]?.arrayValue ?? []
            let text = blocks.filter { $0["type"] == "text" }.map { $0["text"]?.stringValue ?? "" }.joined()
            #expect(s.text == text, "\(name)")
            let toolUses = blocks.filter { $0["type"] == "tool_use" }
            #expect(s.calls.map(\.id) == toolUses.map { $0["id"]?.stringValue ?? "" }, "\(name)")
            #expect(s.calls.map(\.name) == toolUses.map { $0["name"]?.stringValue ?? "" }, "\(name)")
            #expect(s.calls.map(\.arguments) == toolUses.map { $0["input"] }, "\(name)")
            #expect(s.finish == AnthropicWire.finishReason(message["stop_reason"]?.stringValue), "\(name)")
            #expect(s.usage == AnthropicWire.usage(try #require(message["usage"])), "\(name)")
            // The message id stands in for a request id when the response has no header.
            #expect(events.last == .finish(try #require(s.finish), requestID: message["id"]?.stringValue), "\(name)")
        }
    }

    /// The finish reasons and usage of the recorded streams, spelled out.
    @Test func recordedStopReasonsAndUsage() throws {
        func run(_ name: String) throws -> (text: String, calls: [ToolCall], finish: FinishReason?, usage: Usage?) {
            let result = mapAll(Self.mapper, try Self.fixture(name), splits: [])
            #expect(result.error == nil, "\(name)")
            return summary(result.events)
        }
        let basic = try run("basic_response")
        #expect(basic.finish == .stop)
        #expect(basic.usage == Usage(inputTokens: 11, outputTokens: 6))
        let tool = try run("tool_use_response")
        #expect(tool.finish == .toolCalls)
        #expect(tool.calls == [ToolCall(id: "toolu_01NRLabsLyVHZPKxbKvkfSMn", name: "get_weather", rawArguments: #"{"location": "Paris"}"#)])
        #expect(tool.usage == Usage(inputTokens: 377, outputTokens: 65))
        let refusal = try run("refusal_response")
        #expect(refusal.finish == .other("refusal"))
        #expect(refusal.text.isEmpty)
        // Anthropic ran the web search itself: no tool call for us; the text after it is the
        // answer. message_delta's usage replaces message_start's (612 → 28 input tokens).
        let server = try run("stream-a-toolrefusal")
        #expect(server.calls.isEmpty)
        #expect(server.text == "Here's a summary of this year's solar eclipses and how")
        #expect(server.finish == .other("refusal"))
        #expect(server.usage == Usage(inputTokens: 28, outputTokens: 106, reasoningTokens: 67))
    }

    /// The stream stops at max_tokens inside a tool call's `input_json_delta`: no
    /// content_block_stop for it, then message_delta and message_stop.
    ///
    /// The Anthropic SDK completes the call with a best-effort parse of the partial JSON
    /// (expected.json `sdk_expected_tool_input_from_partial_json`: the trailing unterminated
    /// string dropped). Our contract differs on purpose: a cut-off tool call is never completed,
    /// because running a tool on arguments the model did not finish writing (here a file with
    /// half its lines) is worse than failing. The text before it is delivered, then the stream
    /// throws; no usage and no finish are emitted.
    @Test func cutOffToolCallIsNeverCompleted() async throws {
        let expected = try Conformance.json("\(Self.conformance)/expected.json")
        let message = try #require(expected["files"]?["incomplete_partial_json_response.sse"]?["final_message"])
        let bytes = try Self.fixture("incomplete_partial_json_response")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("toolu_01EKqbqmZrGRXy18eN7m9kvY"))
        #expect(e.message.contains("max_tokens"))
        #expect(!e.isRetryable)
        let s = summary(events)
        #expect(s.text == message["content"]?[0]?["text"]?.stringValue)
        #expect(s.calls.isEmpty)
        #expect(s.finish == nil)
        #expect(s.usage == nil)
        // The text deltas all come before anything about the call.
        let firstCallEvent = try #require(events.firstIndex { if case .textDelta = $0 { false } else { true } })
        #expect(events[firstCallEvent...].allSatisfy { if case .textDelta = $0 { false } else { true } })
    }

    // MARK: Our fixtures

    /// Two tool_use blocks in one answer, with prompt caching: input tokens count the cache
    /// write and read too, and both are given on their own.
    @Test func parallelToolCallsWithPromptCaching() async throws {
        let bytes = try Self.ours("parallel_tool_use_cached")
        let server = try await WireTestServer.start { _ in .sse(bytes, headers: [("request-id", "req_011CPar")]) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        checkGrammar(events)
        let s = summary(events)
        #expect(s.text == "I'll check the weather in Paris and the time in Rome at once.")
        #expect(s.calls.map(\.id) == ["toolu_01T1x1fJ34qAmk2tNTrN7Up6", "toolu_01UaBqkZ9kQG3dwGk8Hc2ePf"])
        #expect(s.calls.map(\.name) == ["get_weather", "get_time"])
        #expect(s.calls.map(\.arguments) == [["city": "Paris", "unit": "celsius"], ["timezone": "Europe/Rome"]])
        #expect(s.usage == Usage(inputTokens: 21 + 188 + 2048, outputTokens: 97, cacheReadTokens: 2048, cacheWriteTokens: 188))
        #expect(events.last == .finish(.toolCalls, requestID: "req_011CPar"))
        // Each call starts at its content_block_start and completes at its content_block_stop,
        // before the next begins.
        let order = events.compactMap { event -> String? in
            switch event {
            case .toolCallStart(let id, _): "start \(id.suffix(4))"
            case .toolCallComplete(let call): "complete \(call.id.suffix(4))"
            default: nil
            }
        }
        #expect(order == ["start 7Up6", "complete 7Up6", "start 2ePf", "complete 2ePf"])
    }

    /// Thinking, its signature and redacted thinking produce no events: only the answer is text.
    @Test func thinkingIsNotAnswerText() throws {
        let result = mapAll(Self.mapper, try Self.ours("thinking"), splits: [])
        #expect(result.error == nil)
        checkGrammar(result.events)
        #expect(result.events == [
            .textDelta("27 * 453 = 12,231"),
            .usage(Usage(outputTokens: 312)),
            .finish(.stop, requestID: "msg_01HarnessThinking0001"),
        ])
    }

    /// `event: error` mid-stream: the text before it is delivered, then the error it
    /// describes, retryable.
    @Test func errorEventMidStream() async throws {
        let bytes = try Self.ours("error_mid_stream")
        let server = try await WireTestServer.start { _ in .sse(bytes, headers: [("request-id", "req_011CErr")]) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(events == [.textDelta("The first half of"), .textDelta(" an answer")])
        let e = try Self.providerError(error)
        #expect(e.code == .overloaded)
        #expect(e.isRetryable)
        #expect(e.message == "Overloaded")
        #expect(e.providerCode == "overloaded_error")
        #expect(e.requestID == "req_011CErr")
    }

    /// Other `error` types in the stream map like their HTTP counterparts.
    @Test func errorEventTypes() {
        let cases: [(String, ProviderError.Code)] = [
            (#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#, .rateLimited),
            (#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#, .server),
            (#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 201000 tokens > 200000 maximum"}}"#, .contextLengthExceeded),
        ]
        for (data, code) in cases {
            let bytes = Array("event: error\ndata: \(data)\n\n".utf8)
            let result = mapAll(Self.mapper, bytes, splits: [])
            #expect((result.error as? ProviderError)?.code == code, "\(data)")
        }
    }

    /// A non-streamed message with thinking, text and two tool_use blocks.
    @Test func nonStreamedTwoToolUseBlocks() async throws {
        let body = String(decoding: try Fixture.bytes("anthropic/nonstreamed_two_tool_use.json"), as: UTF8.self)
        let server = try await WireTestServer.start { _ in .json(body, headers: [("request-id", "req_011CJson")]) }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(Self.request)
        #expect(response.message.text == "I'll look up both cities.")
        #expect(response.message.toolCalls.map(\.id) == ["toolu_01A09q90qw90lq917835lq9", "toolu_01B2x8Lq3e4D5f6G7h8J9k0L"])
        #expect(response.message.toolCalls.map(\.arguments) == [["city": "Paris", "unit": "celsius"], ["city": "Rome", "unit": "celsius"]])
        #expect(response.message.toolCalls[1].rawArguments == #"{"city":"Rome","unit":"celsius"}"#)
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage == Usage(inputTokens: 472 + 1536, outputTokens: 133, cacheReadTokens: 1536))
        #expect(response.model == "claude-sonnet-4-5-20250929")
        #expect(response.requestID == "req_011CJson")
        let sent = try JSONValue(parsingBytes: try #require(server.requests.first).body)
        #expect(sent["stream"] == nil)
        #expect(server.requests.first?.header("accept") != "text/event-stream")
    }

    /// A non-streamed answer that hit max_tokens with a tool_use block last: that call may be
    /// cut off, so the response is the same error a stream gives, not a half-written call.
    @Test func nonStreamedCutOffToolCall() async throws {
        let body = """
            {"id":"msg_01Cut","type":"message","role":"assistant","model":"claude-sonnet-4-5",
             "content":[{"type":"text","text":"Writing the file."},
                        {"type":"tool_use","id":"toolu_01Cut","name":"make_file","input":{"filename":"taxes.txt"}}],
             "stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":450,"output_tokens":124}}
            """
        let server = try await WireTestServer.start { _ in .json(body) }
        defer { server.shutdown() }
        let e = try await #require(throws: ProviderError.self) { try await Self.model(server).complete(Self.request) }
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("toolu_01Cut"))
        // max_tokens after a complete text answer is just a long answer.
        let text = try AnthropicWire.response(
            ["content": [["type": "text", "text": "A long"]], "stop_reason": "max_tokens", "usage": ["input_tokens": 1, "output_tokens": 2]],
            provider: "anthropic", requestID: nil
        )
        #expect(text.finishReason == .length)
        #expect(text.message.text == "A long")
    }

    /// Stop reasons.
    @Test func stopReasons() {
        #expect(AnthropicWire.finishReason("end_turn") == .stop)
        #expect(AnthropicWire.finishReason("stop_sequence") == .stop)
        #expect(AnthropicWire.finishReason("max_tokens") == .length)
        #expect(AnthropicWire.finishReason("tool_use") == .toolCalls)
        #expect(AnthropicWire.finishReason("refusal") == .other("refusal"))
        #expect(AnthropicWire.finishReason("pause_turn") == .other("pause_turn"))
    }

    // MARK: Splits and truncation

    /// Every stream fixture split in two at every byte boundary gives the same events (and
    /// the same error) once deltas are merged.
    @Test func everySplitInProcess() throws {
        for bytes in Self.allStreams {
            let reference = mapAll(Self.mapper, bytes, splits: [])
            for k in 0...bytes.count {
                let split = mapAll(Self.mapper, bytes, splits: [k])
                #expect(normalized(split.events) == normalized(reference.events), "split at \(k)")
                #expect(String(describing: split.error) == String(describing: reference.error), "split at \(k)")
            }
        }
        #expect(Self.allStreams.count == 8)
    }

    /// Over HTTP, one byte per chunk, every fixture gives the events it gives in one piece;
    /// tool_use_response.sse also split in two at every byte.
    @Test func chunkedOverHTTPGivesTheSameEvents() async throws {
        for bytes in Self.allStreams {
            let reference = mapAll(Self.mapper, bytes, splits: [])
            let server = try await WireTestServer.start { _ in .sse(bytes, chunking: .everyByte) }
            defer { server.shutdown() }
            let (events, error) = await collect(Self.model(server).stream(Self.request))
            #expect(normalized(events) == normalized(reference.events))
            #expect((error as? ProviderError)?.code == (reference.error as? ProviderError)?.code)
        }
        let bytes = try Self.fixture("tool_use_response")
        let reference = normalized(mapAll(Self.mapper, bytes, splits: []).events)
        let split = Mutex(1)
        let server = try await WireTestServer.start { _ in
            let k = split.withLock { v in defer { v += 1 }; return v }
            return .sse(bytes, chunking: .splitAt(k))
        }
        defer { server.shutdown() }
        let model = Self.model(server)
        for k in 1..<bytes.count {
            let (events, error) = await collect(model.stream(Self.request))
            if error != nil || normalized(events) != reference {
                Issue.record("split at \(k) differs: \(String(describing: error))")
                break
            }
        }
    }

    /// A body that ends before message_stop is an error, whatever it had delivered; so is a
    /// message_stop with no stop_reason before it.
    @Test func truncatedStreams() throws {
        let bytes = try Self.fixture("tool_use_response")
        let text = String(decoding: bytes, as: UTF8.self)
        let beforeDelta = try #require(text.range(of: "event: message_delta"))
        let cut = Array(text[..<beforeDelta.lowerBound].utf8)
        let result = mapAll(Self.mapper, cut, splits: [])
        #expect((result.error as? ProviderError)?.code == .invalidResponse)
        #expect(summary(result.events).finish == nil)
        #expect(summary(result.events).calls.count == 1)  // it was complete before the cut

        let noStopReason = Array("""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":1,"output_tokens":1}}}

            event: message_stop
            data: {"type":"message_stop"}


            """.utf8)
        let second = mapAll(Self.mapper, noStopReason, splits: [])
        #expect((second.error as? ProviderError)?.code == .invalidResponse)
        #expect(second.events.isEmpty)
    }

    // MARK: The request

    /// The streamed request: URL, headers, and a body with system at the top, max_tokens,
    /// tools, tool_choice, sampling options and stream.
    @Test func streamedRequestOverTheWire() async throws {
        let bytes = try Self.fixture("basic_response")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        var request = Self.request
        request.options = GenerationOptions(temperature: 0.2, topP: 0.9, maxOutputTokens: 512, seed: 7, stopSequences: ["END", "STOP"])
        request.toolChoice = .tool("get_weather")
        _ = await collect(Self.model(server).stream(request))
        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/v1/messages")
        #expect(sent.header("x-api-key") == Self.key)
        #expect(sent.header("anthropic-version") == "2023-06-01")
        #expect(sent.header("content-type") == "application/json")
        #expect(sent.header("accept") == "text/event-stream")
        #expect(sent.header("authorization") == nil)
        let body = try JSONValue(parsingBytes: sent.body)
        #expect(body == [
            "model": "claude-sonnet-4-5",
            "max_tokens": 512,
            "system": "Be brief.",
            "messages": [["role": "user", "content": [["type": "text", "text": "What's the weather in Paris?"]]]],
            "tools": [["name": "get_weather", "description": "Weather by city", "input_schema": ["type": "object", "properties": ["city": ["type": "string"]]]]],
            "tool_choice": ["type": "tool", "name": "get_weather"],
            "temperature": 0.2,
            "top_p": 0.9,
            "stop_sequences": ["END", "STOP"],
            "stream": true,
        ])
    }

    /// A whole conversation: system messages join the system prompt; the results of parallel
    /// calls become ONE user message of tool_result blocks (ahead of any text that follows);
    /// tool_use input is the parsed arguments object, `{}` when they do not parse; images as
    /// base64 and url sources; empty text is not sent.
    @Test func conversationMapping() {
        let paris = ToolCall(id: "toolu_1", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)
        let broken = ToolCall(id: "toolu_2", name: "get_weather", rawArguments: #"{"city": "Ro"#)
        let notObject = ToolCall(id: "toolu_3", name: "get_time", rawArguments: "[1]")
        let request = ModelRequest(
            model: "claude-sonnet-4-5",
            system: "sys",
            messages: [
                .system("more rules"),
                .user("weather?"),
                .assistant("Checking.", toolCalls: [paris, broken, notObject]),
                .tool(ToolResult(toolCallID: "toolu_1", name: "get_weather", content: "sunny")),
                .tool(ToolResult(toolCallID: "toolu_2", name: "get_weather", content: "invalid arguments", isError: true)),
                .tool(ToolResult(toolCallID: "toolu_3", name: "get_time", content: "12:00")),
                .user("and these?"),
                .assistant("Nice pictures."),
                Message(role: .user, content: [
                    .text(""),
                    .image(ImageContent(base64Data: "AAAA", mediaType: "image/jpeg")),
                    .image(ImageContent(url: "https://example.com/cat.png")),
                    .image(ImageContent(url: "data:image/webp;base64,BBBB")),
                ]),
            ],
            responseFormat: .jsonSchema(name: "answer", schema: ["type": "object"], strict: true)
        )
        let body = AnthropicWire.body(for: request, stream: false)
        #expect(body["system"] == "sys\n\nmore rules")
        #expect(body["max_tokens"] == .integer(AnthropicWire.defaultMaxTokens))
        #expect(body["max_tokens"] == 4096)
        #expect(body["response_format"] == nil)
        #expect(body["output_format"] == nil)
        #expect(body["stream"] == nil)
        #expect(body["tools"] == nil)
        #expect(body["tool_choice"] == nil)
        #expect(body["messages"] == [
            ["role": "user", "content": [["type": "text", "text": "weather?"]]],
            ["role": "assistant", "content": [
                ["type": "text", "text": "Checking."],
                ["type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": ["city": "Paris"]],
                ["type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": [:]],
                ["type": "tool_use", "id": "toolu_3", "name": "get_time", "input": [:]],
            ]],
            ["role": "user", "content": [
                ["type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny", "is_error": false],
                ["type": "tool_result", "tool_use_id": "toolu_2", "content": "invalid arguments", "is_error": true],
                ["type": "tool_result", "tool_use_id": "toolu_3", "content": "12:00", "is_error": false],
                ["type": "text", "text": "and these?"],
            ]],
            ["role": "assistant", "content": [["type": "text", "text": "Nice pictures."]]],
            ["role": "user", "content": [
                ["type": "image", "source": ["type": "base64", "media_type": "image/jpeg", "data": "AAAA"]],
                ["type": "image", "source": ["type": "url", "url": "https://example.com/cat.png"]],
                ["type": "image", "source": ["type": "base64", "media_type": "image/webp", "data": "BBBB"]],
            ]],
        ])
    }

    /// A user message that lands between a tool call and its result still yields a turn that
    /// opens with the tool_result, as the API requires.
    @Test func toolResultsOpenTheUserTurn() {
        let call = ToolCall(id: "toolu_1", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)
        let request = ModelRequest(model: "claude-sonnet-4-5", messages: [
            .user("weather?"), .assistant("", toolCalls: [call]), .user("in celsius please"),
            .tool(ToolResult(toolCallID: "toolu_1", name: "get_weather", content: "18")),
        ])
        #expect(AnthropicWire.body(for: request, stream: false)["messages"]?[2] == [
            "role": "user", "content": [
                ["type": "tool_result", "tool_use_id": "toolu_1", "content": "18", "is_error": false],
                ["type": "text", "text": "in celsius please"],
            ],
        ])
    }

    /// Tool choice: auto, any (required), tool, none.
    @Test func toolChoices() {
        let cases: [(ToolChoice, JSONValue)] = [
            (.auto, ["type": "auto"]), (.required, ["type": "any"]),
            (.tool("get_weather"), ["type": "tool", "name": "get_weather"]), (.none, ["type": "none"]),
        ]
        for (choice, wire) in cases {
            var request = Self.request
            request.toolChoice = choice
            #expect(AnthropicWire.body(for: request, stream: true)["tool_choice"] == wire)
        }
    }

    /// max_tokens: the request's, else the model's default, else 4096.
    @Test func maxTokensIsAlwaysSent() async throws {
        let body = String(decoding: try Fixture.bytes("anthropic/nonstreamed_two_tool_use.json"), as: UTF8.self)
        let server = try await WireTestServer.start { _ in .json(body) }
        defer { server.shutdown() }
        var model = Self.model(server)
        _ = try await model.complete(Self.request)
        model.defaultMaxTokens = 1000
        _ = try await model.complete(Self.request)
        var request = Self.request
        request.options.maxOutputTokens = 20
        _ = try await model.complete(request)
        let sent = try server.requests.map { try JSONValue(parsingBytes: $0.body)["max_tokens"]?.intValue }
        #expect(sent == [4096, 1000, 20])
    }

    // MARK: Configuration

    @Test func environment() async throws {
        #expect(throws: ProviderConfigurationError.self) { try AnthropicModel(environment: [:]) }
        #expect(throws: ProviderConfigurationError.self) { try AnthropicModel(environment: ["ANTHROPIC_API_KEY": ""]) }
        let plain = try AnthropicModel(environment: ["ANTHROPIC_API_KEY": Self.key])
        #expect(plain.settings.baseURL == "https://api.anthropic.com")
        #expect(plain.apiKey == Self.key)
        #expect(plain.providerName == "anthropic")
        let bytes = try Self.fixture("basic_response")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        let proxied = try AnthropicModel(environment: ["ANTHROPIC_API_KEY": Self.key, "ANTHROPIC_BASE_URL": server.baseURL + "/"])
        #expect(proxied.settings.baseURL == server.baseURL + "/")
        let (_, error) = await collect(proxied.stream(Self.request))
        #expect(error == nil)
        #expect(server.requests.first?.uri == "/v1/messages")
        #expect(server.requests.first?.header("x-api-key") == Self.key)
    }

    /// No native response format: the orchestrator must put the schema in the instructions.
    @Test func noNativeStructuredOutput() {
        let model = AnthropicModel(apiKey: Self.key)
        #expect(model.capabilities.structuredOutput == false)
        #expect(model.capabilities.toolCalling)
        let claimed = AnthropicModel(
            apiKey: Self.key,
            settings: ProviderSettings(baseURL: "http://x", providerName: "anthropic", capabilities: ModelCapabilities(structuredOutput: true, contextWindow: 200_000))
        )
        #expect(claimed.capabilities == ModelCapabilities(structuredOutput: false, toolCalling: true, contextWindow: 200_000))
    }

    // MARK: HTTP errors and headers

    /// Anthropic's error statuses and bodies, streamed and not.
    @Test func httpErrors() async throws {
        let cases: [(Int, String, [(name: String, value: String)], ProviderError.Code, Bool)] = [
            (529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, [], .overloaded, true),
            (429, #"{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization"}}"#,
             [("retry-after", "12")], .rateLimited, true),
            (401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#, [], .authentication, false),
            (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 215038 tokens > 200000 maximum"}}"#,
             [], .contextLengthExceeded, false),
            (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#, [], .invalidRequest, false),
            (404, #"{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}"#, [], .notFound, false),
        ]
        for (status, body, headers, code, retryable) in cases {
            let server = try await WireTestServer.start { _ in .json(body, status: status, headers: headers + [("request-id", "req_011CErr\(status)")]) }
            defer { server.shutdown() }
            let (events, error) = await collect(Self.model(server).stream(Self.request))
            #expect(events.isEmpty)
            let streamed = try Self.providerError(error)
            let whole = try await #require(throws: ProviderError.self) { try await Self.model(server).complete(Self.request) }
            for e in [streamed, whole] {
                #expect(e.code == code, "HTTP \(status)")
                #expect(e.isRetryable == retryable, "HTTP \(status)")
                #expect(e.status == status)
                #expect(e.requestID == "req_011CErr\(status)")
                #expect(!String(describing: e).contains("SECRET"), "the key leaked: \(e)")
            }
            if status == 429 {
                #expect(streamed.retryAfter == .seconds(12))
                #expect(streamed.providerCode == "rate_limit_error")
            }
        }
    }

    /// The `anthropic-ratelimit-*` headers of a response reach the rate-limit observer.
    @Test func rateLimitHeadersReachTheObserver() async throws {
        let bytes = try Self.fixture("basic_response")
        let headers: [(name: String, value: String)] = [
            ("request-id", "req_011CRate"),
            ("anthropic-ratelimit-requests-limit", "50"), ("anthropic-ratelimit-requests-remaining", "49"),
            ("anthropic-ratelimit-requests-reset", "2030-01-01T00:00:30Z"),
            ("anthropic-ratelimit-input-tokens-limit", "40000"), ("anthropic-ratelimit-input-tokens-remaining", "0"),
            ("anthropic-ratelimit-input-tokens-reset", "2030-01-01T00:01:00Z"),
            ("anthropic-ratelimit-output-tokens-limit", "8000"), ("anthropic-ratelimit-output-tokens-remaining", "7990"),
            ("anthropic-ratelimit-output-tokens-reset", "2030-01-01T00:00:05Z"),
        ]
        let seen = Mutex<[RateLimitState]>([])
        let server = try await WireTestServer.start { request in
            request.header("accept") == "text/event-stream"
                ? .sse(bytes, headers: headers)
                : .json(String(decoding: (try? Fixture.bytes("anthropic/nonstreamed_two_tool_use.json")) ?? [], as: UTF8.self), headers: headers)
        }
        defer { server.shutdown() }
        var settings = ProviderSettings(baseURL: server.baseURL, providerName: "anthropic")
        settings.rateLimitObserver = { state in seen.withLock { $0.append(state) } }
        let model = AnthropicModel(apiKey: Self.key, settings: settings)
        let (events, _) = await collect(model.stream(Self.request))
        #expect(events.last == .finish(.stop, requestID: "req_011CRate"))
        _ = try await model.complete(Self.request)
        let states = seen.withLock { $0 }
        #expect(states.count == 2)
        let reset = try #require(ISO8601DateFormatter().date(from: "2030-01-01T00:01:00Z"))
        for state in states {
            #expect(state.requests.limit == 50)
            #expect(state.requests.remaining == 49)
            #expect(state.inputTokens == RateLimitState.Window(limit: 40000, remaining: 0, resetsAt: reset))
            #expect(state.outputTokens.remaining == 7990)
            #expect(state.suggestedDelay(now: reset.addingTimeInterval(-2)) == .seconds(2))
        }
    }
}
