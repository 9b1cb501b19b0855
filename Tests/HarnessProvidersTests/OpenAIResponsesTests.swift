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

/// The Responses API adapter. Fixtures (Fixtures/openai-responses-*.sse, *.json) were written
/// from OpenAI's API reference ("Streaming events" and "The response object" of
/// platform.openai.com/docs/api-reference/responses); `OpenAISpecTests` validates each of
/// their events against the OpenAPI spec's `ResponseStreamEvent` schema.
@Suite struct OpenAIResponsesTests {
    static func model(_ server: WireTestServer) -> OpenAIResponsesModel {
        OpenAIResponsesModel(apiKey: "sk-test-abcdefgh12345678", settings: ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai"))
    }

    @Test func streamedText() async throws {
        let bytes = try Fixture.bytes("openai-responses-text.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes, headers: [("x-request-id", "req_r1")]) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(OpenAIChatTests.request))
        #expect(error == nil)
        checkGrammar(events)
        let s = summary(events)
        #expect(s.text == "Hi there! How can I help?")
        #expect(s.usage == Usage(inputTokens: 37, outputTokens: 11))
        #expect(events.last == .finish(.stop, requestID: "req_r1"))
    }

    @Test func streamedParallelToolCallsWithReasoningAndCachedTokens() async throws {
        let bytes = try Fixture.bytes("openai-responses-parallel-tools.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(OpenAIChatTests.request))
        #expect(error == nil)
        checkGrammar(events)
        let s = summary(events)
        #expect(s.text == "")
        #expect(s.calls.map(\.id) == ["call_Kq5hPq4fI5zaGWhtBm1D3q0t", "call_jL6Ba2d7CkqJYhBuLn0H9MwE"])
        #expect(s.calls.map(\.arguments) == [["city": "Paris"], ["city": "Rome"]])
        #expect(s.finish == .toolCalls)
        #expect(s.usage == Usage(inputTokens: 2200, outputTokens: 410, cacheReadTokens: 1920, cacheWriteTokens: 128, reasoningTokens: 384))
    }

    @Test func everySplit() async throws {
        for name in ["openai-responses-text.sse", "openai-responses-parallel-tools.sse"] {
            let bytes = try Fixture.bytes(name)
            let reference = mapAll({ OpenAIResponsesStreamMapper(provider: "openai", requestID: "r") }, bytes, splits: [])
            #expect(reference.error == nil)
            for k in 0...bytes.count {
                let split = mapAll({ OpenAIResponsesStreamMapper(provider: "openai", requestID: "r") }, bytes, splits: [k])
                #expect(normalized(split.events) == normalized(reference.events), "\(name) at \(k)")
            }
        }
        // Over HTTP: one byte per frame.
        let bytes = try Fixture.bytes("openai-responses-parallel-tools.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes, chunking: .everyByte) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(OpenAIChatTests.request))
        #expect(error == nil)
        #expect(summary(events).calls.count == 2)
    }

    @Test func nonStreamed() async throws {
        let body = String(decoding: try Fixture.bytes("openai-responses-parallel-tools.json"), as: UTF8.self)
        let server = try await WireTestServer.start { _ in .json(body) }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(OpenAIChatTests.request)
        #expect(response.message.toolCalls.map(\.name) == ["get_weather", "get_weather"])
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage == Usage(inputTokens: 2200, outputTokens: 410, cacheReadTokens: 1920, cacheWriteTokens: 128, reasoningTokens: 384))
        #expect(response.model == "o4-mini-2025-04-16")
    }

    @Test func requestBody() async throws {
        let bytes = try Fixture.bytes("openai-responses-text.sse")
        let server = try await WireTestServer.start { _ in .sse(bytes) }
        defer { server.shutdown() }
        _ = await collect(Self.model(server).stream(OpenAISpecTests.conversation))
        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/v1/responses")
        let body = try JSONValue(parsingBytes: sent.body)
        #expect(body["instructions"] == "sys")
        #expect(body["store"] == false)
        #expect(body["stream"] == true)
        #expect(body["input"]?[1] == ["type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": #"{"city":"Paris"}"#])
        #expect(body["input"]?[2] == ["type": "function_call_output", "call_id": "call_1", "output": "sunny"])
        #expect(body["tool_choice"] == ["type": "function", "name": "get_weather"])
        #expect(body["text"]?["format"]?["type"] == "json_schema")
        #expect(body["max_output_tokens"] == 100)
    }

    @Test func truncatedAndFailed() async throws {
        let full = String(decoding: try Fixture.bytes("openai-responses-text.sse"), as: UTF8.self)
        let cut = Array(full[..<full.range(of: "event: response.completed")!.lowerBound].utf8)
        let server = try await WireTestServer.start { _ in .sse(cut) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(OpenAIChatTests.request))
        #expect(summary(events).text == "Hi there! How can I help?")
        #expect((error as? ProviderError)?.code == .invalidResponse)

        let failed = Array("""
            event: response.failed
            data: {"type":"response.failed","sequence_number":3,"response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."}}}


            """.utf8)
        let server2 = try await WireTestServer.start { _ in .sse(failed) }
        defer { server2.shutdown() }
        let (_, error2) = await collect(Self.model(server2).stream(OpenAIChatTests.request))
        let e = try #require(error2 as? ProviderError)
        #expect(e.code == .server)
        #expect(e.isRetryable)
        #expect(e.message == "The model failed to generate a response.")
    }
}
