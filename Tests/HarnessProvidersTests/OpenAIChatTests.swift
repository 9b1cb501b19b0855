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
@testable import HarnessProviders
import HarnessProvidersTesting
import Testing

@Suite struct OpenAIChatTests {
    static let fixtureNames = [
        "text-only", "tool-call-single", "tool-calls-parallel-two-functions", "tool-call-strict",
        "tool-call-non-strict", "text-n3-choices", "refusal",
    ]

    static func fixture(_ name: String) throws -> [UInt8] {
        try Conformance.bytes("openai-anthropic-wire/sse-openai-chat-completions/\(name).sse")
    }

    static func model(_ server: WireTestServer, key: String = "sk-test-0123456789abcdef", timeouts: ProviderTimeouts = .default) -> OpenAIChatModel {
        OpenAIChatModel(
            apiKey: key,
            settings: ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai", timeouts: timeouts)
        )
    }

    static let request = ModelRequest(
        model: "gpt-4o-2024-08-06",
        system: "Be brief.",
        messages: [.user("What's the weather in Edinburgh?")],
        tools: [ToolSpec(name: "get_weather", description: "Weather by city", inputSchema: ["type": "object", "properties": ["city": ["type": "string"]]])]
    )

    /// Every recorded stream, replayed by a real server, adds up to what expected.json says
    /// for choice 0; the event grammar holds.
    @Test func recordedStreamsMatchExpected() async throws {
        let expected = try Conformance.json("openai-anthropic-wire/sse-openai-chat-completions/expected.json")
        for name in Self.fixtureNames {
            let bytes = try Self.fixture(name)
            let server = try await WireTestServer.start { _ in .sse(bytes) }
            defer { server.shutdown() }
            let (events, error) = await collect(Self.model(server).stream(Self.request))
            #expect(error == nil, "\(name): \(String(describing: error))")
            checkGrammar(events)
            let s = summary(events)
            let choice = try #require(expected["files"]?["\(name).sse"]?["choices"]?[0])
            let text = (choice["content"]?.stringValue ?? "") + (choice["refusal"]?.stringValue ?? "")
            #expect(s.text == text, "\(name)")
            let calls = choice["tool_calls"]?.arrayValue ?? []
            #expect(s.calls.map(\.id) == calls.map { $0["id"]?.stringValue ?? "" }, "\(name)")
            #expect(s.calls.map(\.name) == calls.map { $0["name"]?.stringValue ?? "" }, "\(name)")
            #expect(s.calls.map(\.rawArguments) == calls.map { $0["arguments"]?.stringValue ?? "" }, "\(name)")
            for call in s.calls { #expect(call.arguments != nil, "\(name): arguments parse") }
            let finish: FinishReason = choice["refusal"]?.stringValue != nil ? .other("refusal")
                : OpenAIChatWire.finishReason(choice["finish_reason"]?.stringValue)
            #expect(s.finish == finish, "\(name)")
            #expect(s.usage != nil, "\(name): usage delivered")
        }
    }

    /// The usage chunk of text-only.sse, exactly.
    @Test func usageOfRecordedStream() async throws {
        let bytes = try Self.fixture("text-only")
        let server = try await WireTestServer.start { _ in .sse(bytes, headers: [("x-request-id", "req_123")]) }
        defer { server.shutdown() }
        let (events, _) = await collect(Self.model(server).stream(Self.request))
        #expect(summary(events).usage == Usage(inputTokens: 14, outputTokens: 30))
        #expect(events.last == .finish(.stop, requestID: "req_123"))
    }

    /// Each stream split in two at every byte boundary over HTTP (chunked frames), and one
    /// byte per frame, gives the same events once deltas are merged.
    @Test func everySplitOverHTTPGivesTheSameEvents() async throws {
        for name in ["tool-calls-parallel-two-functions", "tool-call-single", "refusal"] {
            let bytes = try Self.fixture(name)
            let reference = normalized(mapAll({ OpenAIChatStreamMapper(provider: "openai", requestID: nil) }, bytes, splits: []).events.map { e in
                if case .finish(let r, _) = e { return .finish(r, requestID: nil) }
                return e
            })
            let split = Mutex(0)
            let server = try await WireTestServer.start { _ in
                let k = split.withLock { v in defer { v += 1 }; return v }
                return .sse(bytes, chunking: k == 0 ? .everyByte : .splitAt(k))
            }
            defer { server.shutdown() }
            let model = Self.model(server)
            for k in 0...bytes.count {
                let (events, error) = await collect(model.stream(Self.request))
                #expect(error == nil)
                let merged = normalized(events.map { e in
                    if case .finish(let r, _) = e { return .finish(r, requestID: nil) }
                    return e
                })
                if merged != reference {
                    Issue.record("\(name): split \(k) differs")
                    break
                }
            }
        }
    }

    /// In-process, every split point of the fixtures the HTTP test above does not replay
    /// split (so that every fixture is checked at every byte boundary one way or the other).
    @Test func everySplitInProcess() async throws {
        for name in ["text-only", "tool-call-strict", "tool-call-non-strict", "text-n3-choices"] {
            let bytes = try Self.fixture(name)
            let reference = mapAll({ OpenAIChatStreamMapper(provider: "openai", requestID: nil) }, bytes, splits: [])
            #expect(reference.error == nil)
            for k in 0...bytes.count {
                if k % 256 == 0 { await Task.yield() }  // share the cooperative pool with timing tests
                let split = mapAll({ OpenAIChatStreamMapper(provider: "openai", requestID: nil) }, bytes, splits: [k])
                #expect(normalized(split.events) == normalized(reference.events), "\(name) at \(k)")
            }
        }
    }

    /// The chunk reader (a skipping scanner, not a full parse) accepts exactly what the
    /// strict parser accepts: every fixture chunk, truncated at every byte and with bytes
    /// replaced at random, is refused by both or accepted by both.
    @Test func chunkReaderIsAsStrictAsTheParser() async throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let replacements = Array(#"{}[]:,"\ 0-1eE.+tfnul"#.utf8) + [0x00, 0x1F, 0xC3, 0xFF]
        var checked = 0
        for name in Self.fixtureNames {
            var decoder = SSEDecoder()
            let events = decoder.feed(try Self.fixture(name)) + decoder.finish()
            for event in events where event.data != "[DONE]" {
                let bytes = Array(event.data.utf8)
                var variants: [[UInt8]] = (0..<bytes.count).map { Array(bytes[..<$0]) }
                for _ in 0..<20 {
                    var mutated = bytes
                    mutated[Int(next() % UInt64(bytes.count))] = replacements[Int(next() % UInt64(replacements.count))]
                    variants.append(mutated)
                }
                await Task.yield()  // share the cooperative pool with timing tests
                for variant in variants {
                    let text = String(decoding: variant, as: UTF8.self)
                    let parsed = (try? JSONValue(parsing: text)) != nil
                    let actions = try? OpenAIChatStreamMapper.read(text, provider: "openai", requestID: nil)
                    let read = actions != nil
                    if parsed != read { Issue.record("\(name): parser \(parsed), reader \(read) on \(text)") }
                    // The raw bytes (invalid UTF-8 not yet replaced), as the mapper reads them
                    // from the SSE decoder: the same verdict and the same actions; and the same
                    // verdict when the id is only validated.
                    let raw = Self.readBytes(variant, readID: true)
                    if raw != actions { Issue.record("\(name): text \(String(describing: actions)), bytes \(String(describing: raw)) on \(text)") }
                    if (Self.readBytes(variant, readID: false) != nil) != read { Issue.record("\(name): skipping the id differs on \(text)") }
                    checked += 1
                }
            }
        }
        #expect(checked > 10_000)
    }

    static func readBytes(_ bytes: [UInt8], readID: Bool) -> [OpenAIChatStreamMapper.Action]? {
        var actions: [OpenAIChatStreamMapper.Action] = []
        do {
            try bytes.withUnsafeBufferPointer { try OpenAIChatStreamMapper.read($0, readID: readID, into: &actions) }
            return actions
        } catch {
            return nil
        }
    }

    /// Invalid UTF-8 in a chunk reaches the reader raw; in content and in tool call arguments
    /// (with or without escapes in the same string) it becomes U+FFFD, as when the SSE
    /// decoder replaced it before the chunk was read.
    @Test func invalidUTF8InADeltaBecomesReplacementCharacters() {
        func chunk(_ delta: [UInt8], finish: String = "null") -> [UInt8] {
            Array(#"data: {"id":"c1","choices":[{"index":0,"delta":"#.utf8) + delta + Array(#","finish_reason":\#(finish)}]}"#.utf8)
                + Array("\n\n".utf8)
        }
        let stream = chunk(Array(#"{"content":"a"#.utf8) + [0xFF] + Array(#"b"}"#.utf8))
            + chunk(Array(#"{"content":"\u00e9"#.utf8) + [0xC3] + Array(#"\n"}"#.utf8))
            + chunk(Array(#"{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{\"k\":\""#.utf8)
                + [0xE2, 0x82] + Array(#"\"}"}}]}"#.utf8))
            + chunk(Array("{}".utf8), finish: #""tool_calls""#)
            + Array("data: [DONE]\n\n".utf8)
        for split in [[], [9], [70, 71, 72], Array(stride(from: 0, to: stream.count, by: 5))] {
            let (events, error) = mapAll({ OpenAIChatStreamMapper(provider: "openai", requestID: nil) }, stream, splits: split)
            #expect(error == nil)
            #expect(events == [
                .textDelta("a\u{FFFD}b"),
                .textDelta("é\u{FFFD}\n"),
                .toolCallStart(id: "call_1", name: "f"),
                .toolCallArgumentsDelta(id: "call_1", delta: "{\"k\":\"\u{FFFD}\"}"),
                .toolCallComplete(ToolCall(id: "call_1", name: "f", rawArguments: "{\"k\":\"\u{FFFD}\"}")),
                .finish(.toolCalls, requestID: "c1"),
            ])
        }
    }

    /// A malformed chunk with invalid UTF-8 before the fault is reported as before: the
    /// offset and excerpt are those of the text with the invalid bytes replaced.
    @Test func malformedChunkErrorNamesTheDecodedText() {
        let data = Array(#"{"choices":[{"index":0,"delta":{"content":""#.utf8) + [0xFF, 0xFF] + Array(#""}}],}"#.utf8)
        let stream = Array("data: ".utf8) + data + Array("\n\n".utf8)
        let (_, error) = mapAll({ OpenAIChatStreamMapper(provider: "openai", requestID: "req_1") }, stream, splits: [])
        let text = String(decoding: data, as: UTF8.self)
        var expected: (any Error)?
        do { _ = try OpenAIChatStreamMapper.read(text, provider: "openai", requestID: "req_1") } catch { expected = error }
        #expect(expected != nil)
        #expect(String(describing: error) == String(describing: expected))
    }

    /// The request: system first, tools as functions, tool_choice, response_format,
    /// stream_options, the key as a bearer token, and a whole conversation with tool calls.
    @Test func requestBody() async throws {
        let bytes = try Self.fixture("text-only")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        let call = ToolCall(id: "call_1", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)
        let request = ModelRequest(
            model: "gpt-4o",
            system: "sys",
            messages: [
                .user("hi"), .assistant("", toolCalls: [call]),
                .tool(ToolResult(toolCallID: "call_1", name: "get_weather", content: "sunny")),
                Message(role: .user, content: [.text("look"), .image(ImageContent(base64Data: "AAAA", mediaType: "image/png"))]),
            ],
            tools: Self.request.tools,
            toolChoice: .tool("get_weather"),
            responseFormat: .jsonSchema(name: "answer", schema: ["type": "object"], strict: true),
            options: GenerationOptions(temperature: 0.5, maxOutputTokens: 100, stopSequences: ["END"])
        )
        _ = await collect(Self.model(server).stream(request))
        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/v1/chat/completions")
        #expect(sent.header("authorization") == "Bearer sk-test-0123456789abcdef")
        let body = try JSONValue(parsingBytes: sent.body)
        #expect(body["model"] == "gpt-4o")
        #expect(body["stream"] == true)
        #expect(body["stream_options"] == ["include_usage": true])
        #expect(body["messages"]?[0] == ["role": "system", "content": "sys"])
        #expect(body["messages"]?[2]?["tool_calls"]?[0] == ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]])
        #expect(body["messages"]?[2]?["content"] == .null)
        #expect(body["messages"]?[3] == ["role": "tool", "tool_call_id": "call_1", "content": "sunny"])
        #expect(body["messages"]?[4]?["content"]?[1] == ["type": "image_url", "image_url": ["url": "data:image/png;base64,AAAA"]])
        #expect(body["tools"]?[0]?["function"]?["name"] == "get_weather")
        #expect(body["tool_choice"] == ["type": "function", "function": ["name": "get_weather"]])
        #expect(body["response_format"] == ["type": "json_schema", "json_schema": ["name": "answer", "schema": ["type": "object"], "strict": true]])
        #expect(body["max_completion_tokens"] == 100)
        #expect(body["temperature"] == 0.5)
        #expect(body["stop"] == ["END"])
    }

    /// A non-streamed answer with parallel tool calls and cached and reasoning tokens.
    @Test func nonStreamingParallelToolCallsAndUsage() async throws {
        let body = """
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",
             "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
               {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}},
               {"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Rome\\"}"}}]},
               "finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
               "prompt_tokens_details":{"cached_tokens":1920,"cache_write_tokens":64},"completion_tokens_details":{"reasoning_tokens":256}}}
            """
        let server = try await WireTestServer.start { _ in .json(body, headers: [("x-request-id", "req_9")]) }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(Self.request)
        #expect(response.finishReason == .toolCalls)
        #expect(response.message.toolCalls.map(\.id) == ["call_a", "call_b"])
        #expect(response.message.toolCalls[1].arguments == ["city": "Rome"])
        #expect(response.usage == Usage(inputTokens: 2006, outputTokens: 300, cacheReadTokens: 1920, cacheWriteTokens: 64, reasoningTokens: 256))
        #expect(response.requestID == "req_9")
        #expect(response.model == "gpt-4o-2024-08-06")
        let sent = try JSONValue(parsingBytes: try #require(server.requests.first).body)
        #expect(sent["stream"] == nil)
    }
}

import Synchronization
