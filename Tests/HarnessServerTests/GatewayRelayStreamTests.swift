//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HarnessConfig
import HarnessCore
import HarnessProviders
import HarnessProvidersTesting
@testable import HarnessServer
import NIOCore
import NIOHTTP1
import Synchronization
import ServiceLifecycle
import Testing

/// The `data:` payloads of an SSE text, `[DONE]` included as a string. Lines are split on
/// the bytes (a raw chunked body's `\r\n` is one Character, which would join two lines).
func sseData(_ text: String) -> [String] {
    text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
        .filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
}

/// The chunks' JSON with the fields that differ per request (`id`, `created`) removed.
func comparableChunks(_ text: String) -> [JSONValue] {
    sseData(text).map { data in
        guard case .object(var fields)? = try? JSONValue(parsing: data) else { return .string(data) }
        fields["id"] = nil
        fields["created"] = nil
        return .object(fields)
    }
}

@Suite("Gateway relay: streams")
struct GatewayRelayStreamTests {
    @Test("A stream is relayed with the full path's events: the gateway's id and model, usage only if asked; the upstream is asked for usage, and it is booked")
    func relaysStream() async throws {
        let server = try await WireTestServer.start { request in
            request.method == "GET" ? .json("{}") : .sse(openAISSE(["Hel", "lo"]))
        }
        defer { server.shutdown() }
        let stores = GatewayStores.inMemory()
        let asking = #"{"model":"up","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#
        var relayedTexts: [String] = []
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment, stores: stores) { port, gateway, _ in
            let answer = try await post(port, "/v1/chat/completions", streamBody)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "content-type") == "text/event-stream")
            #expect(gateway.relayedRequests == 1)
            #expect(gateway.relayedFromBytes.load(ordering: .relaxed) == 1)
            let data = sseData(answer.text)
            #expect(data.last == "[DONE]")
            let chunks = data.dropLast().compactMap { try? JSONValue(parsing: $0) }
            #expect(chunks.count == 4)  // role, two deltas, finish: no usage, the client did not ask
            for chunk in chunks {
                #expect(chunk["id"]?.stringValue == answer.headers.first(name: "x-request-id"))
                #expect(chunk["model"] == "up")
            }
            #expect(chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined() == "Hello")
            #expect(chunks.last?["choices"]?[0]?["finish_reason"] == "stop")
            let sent = try #require(server.requests.first { $0.method == "POST" })
            #expect(sent.header("accept") == "text/event-stream")
            let upstreamJSON = try JSONValue(parsing: sent.bodyText)
            #expect(upstreamJSON["model"] == "m")
            #expect(upstreamJSON["stream_options"]?["include_usage"] == true)

            let withUsage = try await post(port, "/v1/chat/completions", asking)
            #expect(withUsage.status == 200)
            let usageChunk = sseData(withUsage.text).dropLast().last.flatMap { try? JSONValue(parsing: $0) }
            #expect(usageChunk?["usage"]?["prompt_tokens"] == 5)
            #expect(usageChunk?["choices"] == [])
            #expect(gateway.relayedRequests == 2)
            relayedTexts = [answer.text, withUsage.text]

            await gateway.recorder.flush()
            let usage = try await stores.ledger.aggregate(tenant: "default", by: .model, since: nil, until: nil)
            #expect(usage.first?.requests == 2)
            #expect(usage.first?.usage.inputTokens == 10)
            #expect(usage.first?.usage.outputTokens == 6)
        }
        // The full path's events for the same requests are the same.
        try await withGateway(upstreamYAML(server, extra: "server:\n  relay: false"), environment: upstreamEnvironment) { port, gateway, _ in
            let plain = try await post(port, "/v1/chat/completions", streamBody)
            let withUsage = try await post(port, "/v1/chat/completions", asking)
            #expect(gateway.relayedRequests == 0)
            #expect(relayedTexts.count == 2)
            #expect(comparableChunks(plain.text) == comparableChunks(relayedTexts.first ?? ""))
            #expect(comparableChunks(withUsage.text) == comparableChunks(relayedTexts.last ?? ""))
        }
    }

    @Test("Events are written as they arrive, chunked; tool calls come through; a stream answered with an error status goes to the full path")
    func streamsAsItArrives() async throws {
        let toolStream = #"""
            data: {"id":"u","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":""}}]},"finish_reason":null}]}

            data: {"id":"u","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]},"finish_reason":null}]}

            data: {"id":"u","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"x\"}"}}]},"finish_reason":null}]}

            data: {"id":"u","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

            data: {"id":"u","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}

            data: [DONE]


            """#
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            if request.bodyText.contains("refuse") {
                return .json(#"{"error":{"message":"bad","type":"invalid_request_error"}}"#, status: 400)
            }
            var reply = WireTestServer.Reply.sse(
                request.bodyText.contains("tool") ? Array(toolStream.utf8) : openAISSE(["one ", "two ", "three"]), chunking: .sizes([150, 150, 150])
            )
            reply.chunkDelay = .milliseconds(30)
            return reply
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server, extra: "retry:\n  max_attempts: 1"), environment: upstreamEnvironment) { port, gateway, _ in
            // Read raw: the answer is chunked (it began before the upstream's stream ended).
            let connection = try await RawConnection.open(port: port)
            defer { connection.close() }
            try await connection.send(Array(rawPost("/v1/chat/completions", streamBody).utf8))
            let raw = try await connection.waitFor(suffix: "0\r\n\r\n")
            #expect(raw.lowercased().contains("transfer-encoding: chunked"))
            #expect(raw.contains("three") && raw.hasSuffix("data: [DONE]\n\n\r\n0\r\n\r\n"))
            #expect(gateway.relayedRequests == 1)

            let tools = try await post(port, "/v1/chat/completions", #"{"model":"up","stream":true,"messages":[{"role":"user","content":"tool please"}]}"#)
            let chunks = sseData(tools.text).dropLast().compactMap { try? JSONValue(parsing: $0) }
            let calls = chunks.compactMap { $0["choices"]?[0]?["delta"]?["tool_calls"]?[0] }
            #expect(calls.first?["id"] == "call_1" && calls.first?["function"]?["name"] == "lookup")
            #expect(calls.compactMap { $0["function"]?["arguments"]?.stringValue }.joined() == #"{"q":"x"}"#)
            #expect(chunks.last?["choices"]?[0]?["finish_reason"] == "tool_calls")
            #expect(gateway.relayedRequests == 2)

            let refused = try await post(port, "/v1/chat/completions", #"{"model":"up","stream":true,"messages":[{"role":"user","content":"refuse"}]}"#)
            #expect(refused.status == 400)
            #expect(refused.json?["error"]?["type"] == "invalid_request_error")
            #expect(gateway.relayReplayedRequests == 1)
        }
    }

    @Test("A client that does not read holds the upstream's reads back; when it reads, the whole stream arrives in order")
    func slowClient() async throws {
        let pieces = (0..<40_000).map { "piece \($0) " }
        let body = openAISSE(pieces)
        let server = try await WireTestServer.start { request in
            request.method == "GET" ? .json("{}") : .sse(body, chunking: .sizes(Array(repeating: 64 * 1024, count: 256)))
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, gateway, _ in
            let connection = try await RawConnection.open(port: port, autoRead: false)
            defer { connection.close() }
            try await connection.send(Array(rawPost("/v1/chat/completions", streamBody).utf8))
            try await Task.sleep(for: .milliseconds(300))
            try await connection.startReading()
            let raw = try await connection.waitFor(suffix: "0\r\n\r\n")
            let chunks = sseData(raw).dropLast().compactMap { try? JSONValue(parsing: $0) }
            let text = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined()
            #expect(text.count == pieces.joined().count)
            #expect(text == pieces.joined(), "the stream's text differs")
            #expect(gateway.relayReadsHeld.load(ordering: .relaxed) > 0)  // the reads did wait
            #expect(gateway.relayedRequests == 1)
        }
    }

    @Test("A stream that breaks after events went out is resumed through the router: the seam, the rest, usage booked")
    func resumesBrokenStream() async throws {
        let posts = Mutex(0)
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            let n = posts.withLock { $0 += 1; return $0 }
            if n == 1 {
                // Two events, each after a pause, then a reset: no [DONE].
                var reply = WireTestServer.Reply.sse(openAISSE(["Hello ", "wor"], done: false), chunking: .sizes([150]))
                reply.chunkDelay = .milliseconds(40)
                reply.resetAfter = reply.body.count
                return reply
            }
            return .sse(openAISSE(["ld!"]))
        }
        defer { server.shutdown() }
        let stores = GatewayStores.inMemory()
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment, stores: stores) { port, gateway, _ in
            let answer = try await post(port, "/v1/chat/completions", streamBody)
            #expect(answer.status == 200)
            #expect(answer.text.contains(": harness-seam"))
            let chunks = sseData(answer.text).dropLast().compactMap { try? JSONValue(parsing: $0) }
            #expect(chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined() == "Hello world!")
            #expect(Set(chunks.compactMap { $0["id"]?.stringValue }) == [answer.headers.first(name: "x-request-id") ?? "?"])
            #expect(sseData(answer.text).last == "[DONE]")
            #expect(gateway.relayResumes.load(ordering: .relaxed) == 1)
            #expect(gateway.relayReplayedRequests == 0)
            // The continuation asked for the rest of the partial answer.
            let second = try #require(server.requests.filter { $0.method == "POST" }.last)
            let messages = try JSONValue(parsing: second.bodyText)["messages"]
            #expect(messages?[1]?["role"] == "assistant" && messages?[1]?["content"] == "Hello wor")
            #expect(messages?[2]?["content"]?.stringValue?.contains("Continue") == true)
            await gateway.recorder.flush()
            let usage = try await stores.ledger.aggregate(tenant: "default", by: .model, since: nil, until: nil)
            #expect(usage.first?.requests == 1)
            #expect(usage.first?.usage.outputTokens == 3)
        }
    }

    @Test("A stream that stalls after its first events is resumed at the total timeout; one that breaks before any went out is the full path's")
    func stallsAndEarlyBreaks() async throws {
        let posts = Mutex(0)
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            let n = posts.withLock { $0 += 1; return $0 }
            if request.bodyText.contains("early") {
                // The head, then a reset before any event: the full path asks again.
                if n == 3 {
                    var reply = WireTestServer.Reply.sse(openAISSE(["never"]))
                    reply.resetAfter = 0
                    return reply
                }
                return .sse(openAISSE(["second try"]))
            }
            if n == 1 {
                var reply = WireTestServer.Reply.sse(openAISSE(["Hello ", "wor"], done: false), chunking: .sizes([150]))
                reply.stallAfter = reply.body.count
                return reply
            }
            return .sse(openAISSE(["ld!"]))
        }
        defer { server.shutdown() }
        let gateway = try Gateway(configuration: try ConfigLoader.load(yaml: upstreamYAML(server)), stores: .inMemory(), environment: upstreamEnvironment)
        var routes = gateway.relayRoutes
        // Long enough that the upstream's head and first events arrive before it on a loaded
        // machine (CI runs every suite at once: at 0.5 s the first events once came too late,
        // and the relay rightly answered the timeout itself); the stall then outlasts it.
        routes["up"]?.timeouts.total = .seconds(3)
        var gatewayServer = GatewayServer(gateway: gateway, host: "127.0.0.1", port: 0)
        gatewayServer.relayRoutes = routes
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = gatewayServer.makeServiceGroup(signals: false) { port in continuation.yield(port) }
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let stalled = try await post(port, "/v1/chat/completions", streamBody)
        let early = try await post(port, "/v1/chat/completions", #"{"model":"up","stream":true,"messages":[{"role":"user","content":"early"}]}"#)
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(stalled.status == 200)
        let text = sseData(stalled.text).dropLast().compactMap { try? JSONValue(parsing: $0) }
            .compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined()
        #expect(text == "Hello world!")
        #expect(stalled.text.contains(#""reason":"timeout""#))
        #expect(early.status == 200)
        #expect(sseData(early.text).dropLast().compactMap { try? JSONValue(parsing: $0) }
            .compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined() == "second try")
        #expect(gateway.relayResumes.load(ordering: .relaxed) == 1)
        #expect(gateway.relayReplayedRequests == 1)
    }
}
