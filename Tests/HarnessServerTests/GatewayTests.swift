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
import Harness
import HarnessConfig
import HarnessCore
import HarnessPostgres
import HarnessProvidersTesting
import HarnessServer
import HarnessTesting
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing

/// A gateway on a free port for the length of `body`, stopped gracefully afterwards.
func withGateway(
    _ yaml: String,
    environment: [String: String] = [:],
    stores: GatewayStores = .inMemory(),
    _ body: (_ port: Int, _ gateway: Gateway, _ group: ServiceGroup) async throws -> Void
) async throws {
    let configuration = try ConfigLoader.load(yaml: yaml)
    let gateway = try Gateway(configuration: configuration, stores: stores, environment: environment)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let group = GatewayServer(gateway: gateway, host: "127.0.0.1", port: 0).makeServiceGroup(signals: false) { port in
        continuation.yield(port)
    }
    let task = Task { try await group.run() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw HarnessError(.invalidArgument, "the gateway did not start") }
    do {
        try await body(port, gateway, group)
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        throw error
    }
    await group.triggerGracefulShutdown()
    try await task.value
}

struct Answer {
    var status: Int
    var headers: HTTPHeaders
    var text: String
    var json: JSONValue? { try? JSONValue(parsing: text) }
}

func post(_ port: Int, _ path: String, _ body: String, headers: [(String, String)] = []) async throws -> Answer {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = .POST
    request.headers.add(name: "content-type", value: "application/json")
    for (n, v) in headers { request.headers.add(name: n, value: v) }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let bytes = try await response.body.collect(upTo: 8 << 20)
    return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
}

func get(_ port: Int, _ path: String, headers: [(String, String)] = []) async throws -> Answer {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    for (n, v) in headers { request.headers.add(name: n, value: v) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let bytes = try await response.body.collect(upTo: 8 << 20)
    return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
}

/// An OpenAI chat stream: `pieces` as content deltas, then a stop and [DONE].
func openAISSE(_ pieces: [String], done: Bool = true) -> [UInt8] {
    var text = ""
    for p in pieces {
        text += #"data: {"id":"up","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":\#(JSONValue.quoted(p))},"finish_reason":null}]}"# + "\n\n"
    }
    if done {
        text += #"data: {"id":"up","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
        text += #"data: {"id":"up","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}"# + "\n\n"
        text += "data: [DONE]\n\n"
    }
    return Array(text.utf8)
}

func upstreamYAML(_ server: WireTestServer, extra: String = "") -> String {
    """
    models:
      up:
        provider: openai
        model: m
        base_url: \(server.baseURL)/v1
        api_key_env: TEST_UPSTREAM_KEY
    \(extra)
    """
}

let upstreamEnvironment = ["TEST_UPSTREAM_KEY": "sk-test-upstream-0123456789abcdef"]
let chatBody = #"{"model":"up","messages":[{"role":"user","content":"hi"}]}"#
let streamBody = #"{"model":"up","stream":true,"messages":[{"role":"user","content":"hi"}]}"#

@Suite("Gateway wire formats")
struct GatewayWireTests {
    @Test("OpenAI request errors name the field at fault", arguments: [
        (#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
        (#"{"model":"m"}"#, "messages"),
        (#"{"model":"m","messages":[]}"#, "messages"),
        (#"{"model":"m","messages":[{"content":"x"}]}"#, "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"robot","content":"x"}]}"#, "messages[1].role"),
        (#"{"model":"m","messages":[{"role":"user","content":5}]}"#, "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#, "messages[0].tool_call_id"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#, "n"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, "temperature"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]}"#, "tools[0].function.name"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}"#, "response_format.json_schema.schema"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":"nope"}}}"#, "tool_choice.function.name"),
    ])
    func openAIErrors(body: String, field: String) throws {
        let json = try JSONValue(parsing: body)
        do {
            _ = try OpenAIServerWire.request(json)
            Issue.record("accepted \(body)")
        } catch let error as GatewayError {
            #expect(error.param == field, "\(error)")
            #expect(error.kind.status == 400)
            #expect(error.message.contains(field))
        }
    }

    @Test("Anthropic requests: system blocks, tool_use and tool_result become messages with names")
    func anthropicRequest() throws {
        let json = try JSONValue(parsing: #"""
            {"model":"m","max_tokens":50,"system":[{"type":"text","text":"Be brief."}],
             "messages":[{"role":"user","content":"Weather?"},
               {"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Paris"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"18 C"}]},{"type":"text","text":"Thanks"}]}],
             "tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"},"stop_sequences":["END"]}
            """#)
        let request = try AnthropicServerWire.request(json).model
        #expect(request.system == "Be brief.")
        #expect(request.options.maxOutputTokens == 50 && request.options.stopSequences == ["END"])
        #expect(request.toolChoice == .required)
        #expect(request.messages.map(\.role) == [.user, .assistant, .tool, .user])
        #expect(request.messages[1].toolCalls.first?.arguments == ["city": "Paris"])
        #expect(request.messages[2].toolResults.first == ToolResult(toolCallID: "t1", name: "get_weather", content: "18 C"))
        #expect(throws: GatewayError.self) { try AnthropicServerWire.request(try JSONValue(parsing: #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)) }
    }

    @Test("Anthropic stream: text block, then one block per tool call, each closed, then message_delta and message_stop")
    func anthropicStreamSequence() async throws {
        let response = ModelResponse(
            message: .assistant("Let me look.", toolCalls: [
                ToolCall(id: "a", name: "get_weather", arguments: ["city": "Paris"]),
                ToolCall(id: "b", name: "get_weather", arguments: ["city": "Oslo"]),
            ]),
            finishReason: .toolCalls, usage: Usage(inputTokens: 30, outputTokens: 12, cacheReadTokens: 10)
        )
        let model = ScriptedModel([.init(response: response, chunkSize: 4)])
        var encoder = AnthropicStreamEncoderProbe(id: "msg_1", model: "m")
        for try await event in model.stream(ModelRequest(model: "m", messages: [.user("x")])) { encoder.add(event) }
        let names = encoder.events.map(\.name)
        #expect(names.first == "message_start")
        #expect(names.last == "message_stop")
        #expect(names.filter { $0 == "content_block_start" }.count == 3)
        #expect(names.filter { $0 == "content_block_stop" }.count == 3)
        #expect(names.filter { $0 == "ping" }.count == 1)
        // Every delta belongs to a block that is open at that point.
        var open: Set<Int> = []
        for e in encoder.events {
            let index = e.data["index"]?.intValue
            switch e.name {
            case "content_block_start": open.insert(index ?? -1)
            case "content_block_delta": #expect(open.contains(index ?? -1))
            case "content_block_stop": #expect(open.remove(index ?? -1) != nil)
            default: break
            }
        }
        #expect(open.isEmpty)
        let delta = try #require(encoder.events.first { $0.name == "message_delta" })
        #expect(delta.data["delta"]?["stop_reason"] == "tool_use")
        #expect(delta.data["usage"]?["input_tokens"] == 20)  // Anthropic counts cache reads apart
        #expect(delta.data["usage"]?["cache_read_input_tokens"] == 10)
        let args = encoder.events.filter { $0.name == "content_block_delta" && $0.data["index"] == 2 }
            .compactMap { $0.data["delta"]?["partial_json"]?.stringValue }.joined()
        #expect(try JSONValue(parsing: args) == ["city": "Oslo"])
    }
}

@Suite("Gateway over HTTP")
struct GatewayHTTPTests {
    @Test("Malformed JSON, oversized bodies and unknown models get 4xx in the client's own format")
    func badInput() async throws {
        try await withGateway("server:\n  max_body_size: 2048\n") { port, _, _ in
            let broken = try await post(port, "/v1/chat/completions", #"{"model": "scripted", "messages": [}"#)
            #expect(broken.status == 400)
            #expect(broken.json?["error"]?["code"] == "invalid_json")
            #expect(broken.json?["error"]?["message"]?.stringValue?.contains("byte") == true)
            let big = try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":""# + String(repeating: "x", count: 4000) + #""}]}"#)
            #expect(big.status == 413)
            let unknown = try await post(port, "/v1/messages", #"{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(unknown.status == 404)
            #expect(unknown.json?["type"] == "error")
            #expect(unknown.json?["error"]?["type"] == "not_found_error")
            let missing = try await post(port, "/v1/messages", #"{"model":"scripted","messages":[{"role":"user","content":"x"}]}"#)
            #expect(missing.status == 400)
            #expect(missing.json?["error"]?["message"]?.stringValue?.contains("max_tokens") == true)
            let fine = try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":"ok"}]}"#)
            #expect(fine.status == 200)
            #expect(fine.json?["choices"]?[0]?["message"]?["content"] == "You said: ok")
        }
    }

    @Test("An upstream 429 stays a 429 with its Retry-After; the upstream key never reaches the client")
    func upstreamRateLimit() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"error":{"message":"Rate limit reached for key sk-test-upstream-0123456789abcdef","type":"requests","code":"rate_limit_exceeded"}}"#,
                  status: 429, headers: [("retry-after", "7")])
        }
        defer { server.shutdown() }
        // One attempt: the client sees the upstream's answer (retries are tested in HarnessResilienceTests).
        try await withGateway(upstreamYAML(server, extra: "retry:\n  max_attempts: 1"), environment: upstreamEnvironment) { port, _, _ in
            let answer = try await post(port, "/v1/chat/completions", chatBody)
            #expect(answer.status == 429)
            #expect(answer.headers.first(name: "retry-after") == "7")
            #expect(answer.json?["error"]?["code"] == "upstream_rate_limited")
            #expect(!answer.text.contains("0123456789abcdef"))
            #expect(server.requests.first { $0.method == "POST" }?.header("authorization") == "Bearer sk-test-upstream-0123456789abcdef")
        }
    }

    @Test("A failing first route falls over to the second")
    func fallback() async throws {
        let server = try await WireTestServer.start { _ in .json(#"{"error":{"message":"boom"}}"#, status: 500) }
        defer { server.shutdown() }
        let yaml = """
            models:
              up:
                routes:
                  - {provider: openai, model: m, base_url: "\(server.baseURL)/v1", api_key_env: TEST_UPSTREAM_KEY}
                  - {provider: scripted}
            """
        try await withGateway(yaml, environment: upstreamEnvironment) { port, _, _ in
            let answer = try await post(port, "/v1/chat/completions", chatBody)
            #expect(answer.status == 200)
            #expect(answer.json?["choices"]?[0]?["message"]?["content"] == "You said: hi")
            #expect(server.requests.count >= 1)
        }
    }

    @Test("A stream that breaks upstream ends with an error event after the deltas already sent")
    func midStreamFailure() async throws {
        let body = openAISSE(["Hel", "lo, ", "wor", "ld"])
        let cut = Array(String(decoding: body, as: UTF8.self).utf8).count / 2
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }  // the health check
            var reply = WireTestServer.Reply.sse(body, chunking: .sizes([cut]))
            reply.resetAfter = cut
            return reply
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, _, _ in
            let answer = try await post(port, "/v1/chat/completions", streamBody)
            #expect(answer.status == 200)
            #expect(answer.text.contains(#""content":"Hel""#))
            let last = answer.text.split(separator: "\n\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix(#"data: {"error""#), "\(answer.text)")
            #expect(!answer.text.contains("[DONE]"))
        }
    }

    @Test("A stream broken upstream and resumed by the router reaches the client as one stream with a seam comment")
    func resumedStream() async throws {
        let broken = openAISSE(["Hel", "lo, "])
        let posts = Mutex(0)
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            let n = posts.withLock { n in
                n += 1
                return n
            }
            if n == 1 {
                var reply = WireTestServer.Reply.sse(broken, chunking: .sizes([broken.count - 20]))
                reply.resetAfter = broken.count - 60  // after the two deltas, before the finish
                return reply
            }
            return .sse(openAISSE(["world"]))
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, _, _ in
            let answer = try await post(port, "/v1/chat/completions", streamBody)
            #expect(answer.status == 200)
            let text = answer.text.components(separatedBy: "\n\n").compactMap { frame -> String? in
                guard frame.hasPrefix("data: {"), let json = try? JSONValue(parsing: String(frame.dropFirst(6))) else { return nil }
                return json["choices"]?[0]?["delta"]?["content"]?.stringValue
            }.joined()
            #expect(text == "Hello, world", "\(answer.text)")
            #expect(answer.text.contains(": harness-seam {"))
            #expect(answer.text.hasSuffix("data: [DONE]\n\n"))
            // The resume request carried the delivered part: nothing was asked twice from scratch.
            let second = server.requests.filter { $0.method == "POST" }.dropFirst().first?.bodyText ?? ""
            #expect(second.contains("Hello, "), "\(second)")
        }
    }

    @Test("A stream that ended before the response started goes out whole; a running one in chunks; the same events either way")
    func wholeAndChunkedStreams() async throws {
        let pieces = ["Hel", "lo, ", "wor", "ld"]
        let slow = Mutex(false)
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }  // the health check
            var reply = WireTestServer.Reply.sse(openAISSE(pieces), chunking: .sizes([200, 200, 200, 200]))
            if slow.withLock({ $0 }) { reply.chunkDelay = .milliseconds(30) }
            return reply
        }
        defer { server.shutdown() }
        /// The content deltas and the framing of one streamed answer.
        func streamed(_ port: Int) async throws -> (text: String, whole: Bool, done: Bool) {
            let answer = try await post(port, "/v1/chat/completions", streamBody)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "content-type") == "text/event-stream")
            let text = answer.text.components(separatedBy: "\n\n").compactMap { frame -> String? in
                guard frame.hasPrefix("data: {"), let json = try? JSONValue(parsing: String(frame.dropFirst(6))) else { return nil }
                return json["choices"]?[0]?["delta"]?["content"]?.stringValue
            }.joined()
            let whole = answer.headers.first(name: "content-length") != nil
            #expect(whole != (answer.headers.first(name: "transfer-encoding") == "chunked"))
            return (text, whole, answer.text.hasSuffix("data: [DONE]\n\n"))
        }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, _, _ in
            // An upstream that is done before the first event reaches the gateway is not always
            // done when the gateway looks (threads race); some of 60 quick answers are.
            var wholeSeen = 0
            for _ in 0..<60 {
                let answer = try await streamed(port)
                #expect(answer.text == "Hello, world")
                #expect(answer.done)
                if answer.whole { wholeSeen += 1 }
            }
            #expect(wholeSeen > 0, "no stream was sent whole")
            slow.withLock { $0 = true }
            let running = try await streamed(port)
            #expect(running.text == "Hello, world")
            #expect(running.done)
            #expect(!running.whole, "a stream still running upstream was held back and sent whole")
        }
    }

    @Test("A client that disconnects mid-stream cancels the upstream request")
    func disconnectCancelsUpstream() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }  // the health check
            var reply = WireTestServer.Reply.sse(openAISSE(Array(repeating: "tick ", count: 200)), chunking: .sizes(Array(repeating: 160, count: 200)))
            reply.chunkDelay = .milliseconds(50)
            return reply
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, _, _ in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: streamBody))
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let response = try await client.execute(request, timeout: .seconds(60))
            var received = 0
            for try await chunk in response.body {
                received += chunk.readableBytes
                if received > 300 { break }
            }
            let closedBefore = server.closedConnectionCount  // health checks may have come and gone
            try await client.shutdown()  // closes the connection mid-stream
            var waited = 0
            while server.closedConnectionCount == closedBefore && waited < 200 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(server.closedConnectionCount > closedBefore, "the upstream connection stayed open after the client left")
        }
    }

    @Test("Virtual keys: budget from the usage cost, rate limit, revocation; only hashes stored")
    func virtualKeys() async throws {
        let stores = GatewayStores.inMemory()
        let yaml = """
            server:
              auth: required
            pricing:
              scripted: {input: 100000, output: 100000}
            """
        try await withGateway(yaml, environment: ["HARNESS_ADMIN_KEY": "admin-secret-1"], stores: stores) { port, gateway, _ in
            let noKey = try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":"x"}]}"#)
            #expect(noKey.status == 401)
            #expect(noKey.json?["error"]?["code"] == "missing_api_key")
            let admin = [("authorization", "Bearer admin-secret-1")]
            let created = try await post(port, "/admin/keys", #"{"name":"team","budget_usd":1,"rpm":100}"#, headers: admin)
            #expect(created.status == 201)
            let secret = try #require(created.json?["key"]?.stringValue)
            let id = try #require(created.json?["id"]?.stringValue)
            let stored = try #require(try await stores.keys.list(tenant: "default").first)
            #expect(stored.keyHash == KeyAuthenticator.hash(secret) && stored.keyHash != secret)
            // SHA-256 in lowercase hex (FIPS 180-2's "abc" vector).
            #expect(KeyAuthenticator.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            let asKey = [("x-api-key", secret)]
            // The first request is served (spend 0 < $1) and costs ~ $1.3 (13 tokens at $0.1 each).
            let first = try await post(port, "/v1/messages", #"{"model":"scripted","max_tokens":20,"messages":[{"role":"user","content":"hello"}]}"#, headers: asKey)
            #expect(first.status == 200)
            let second = try await post(port, "/v1/messages", #"{"model":"scripted","max_tokens":20,"messages":[{"role":"user","content":"hello"}]}"#, headers: asKey)
            #expect(second.status == 429)
            #expect(second.json?["error"]?["type"] == "rate_limit_error")
            #expect(second.headers.first(name: "x-should-retry") == "false")
            await gateway.recorder.flush()
            let spent = try await stores.ledger.totalCost(tenant: "default", apiKeyID: id, since: nil)
            #expect(spent >= 1)  // 10 tokens at $0.1: the budget is spent, so the second was refused
            // A key may not use the admin API; revocation takes effect at once.
            let forbidden = try await get(port, "/admin/keys", headers: asKey)
            #expect(forbidden.status == 403)
            let other = try await post(port, "/admin/keys", #"{"name":"other","rpm":1}"#, headers: admin)
            let otherKey = [("authorization", "Bearer " + (other.json?["key"]?.stringValue ?? ""))]
            #expect(try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":"x"}]}"#, headers: otherKey).status == 200)
            let limited = try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":"x"}]}"#, headers: otherKey)
            #expect(limited.status == 429)
            #expect(limited.json?["error"]?["code"] == "rate_limit_exceeded")
            #expect(Int(limited.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
            var revoke = HTTPClientRequest(url: "http://127.0.0.1:\(port)/admin/keys/\(id)")
            revoke.method = .DELETE
            revoke.headers.add(name: "authorization", value: "Bearer admin-secret-1")
            #expect(try await HTTPClient.shared.execute(revoke, timeout: .seconds(30)).status == .ok)
            #expect(try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":"x"}]}"#, headers: asKey).status == 401)
        }
    }

    @Test("Graceful shutdown lets an in-flight stream finish and writes its usage record")
    func gracefulShutdown() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }  // the health check
            var reply = WireTestServer.Reply.sse(openAISSE(["a", "b", "c", "d", "e", "f"]), chunking: .sizes(Array(repeating: 150, count: 12)))
            reply.chunkDelay = .milliseconds(80)
            return reply
        }
        defer { server.shutdown() }
        let stores = GatewayStores.inMemory()
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment, stores: stores) { port, _, group in
            async let answer = post(port, "/v1/chat/completions", streamBody)
            while !server.requests.contains(where: { $0.method == "POST" }) { try await Task.sleep(for: .milliseconds(10)) }
            await group.triggerGracefulShutdown()
            let result = try await answer
            #expect(result.status == 200)
            #expect(result.text.hasSuffix("data: [DONE]\n\n"), "\(result.text)")
        }
        let usage = try await stores.ledger.aggregate(tenant: "default", by: .model, since: nil, until: nil)
        #expect(usage.first?.requests == 1)
        #expect(usage.first?.usage.outputTokens == 3)
    }

    @Test("/health/ready turns 503 when the health checks find every route dead, and names why")
    func readinessFollowsHealthChecks() async throws {
        let yaml = """
            models:
              dead:
                provider: openai
                model: m
                base_url: http://127.0.0.1:1/v1
                api_key_env: TEST_UPSTREAM_KEY
            routing:
              health_check_interval: 100ms
            """
        try await withGateway(yaml, environment: upstreamEnvironment) { port, _, _ in
            var ready = try await get(port, "/health/ready")
            var waited = 0
            while ready.status == 200 && waited < 100 {
                try await Task.sleep(for: .milliseconds(100))
                ready = try await get(port, "/health/ready")
                waited += 1
            }
            #expect(ready.status == 503)
            #expect(ready.json?["checks"]?["routes"] == "0 of 1 healthy")
            #expect(try await get(port, "/health/live").status == 200)
        }
    }

    @Test("Health, models in both formats, and a metrics page")
    func operations() async throws {
        try await withGateway("") { port, _, _ in
            #expect(try await get(port, "/health/live").status == 200)
            let ready = try await get(port, "/health/ready")
            #expect(ready.status == 200 && ready.json?["status"] == "ready")
            #expect(try await get(port, "/v1/models").json?["data"]?[0]?["id"] == "scripted")
            #expect(try await get(port, "/v1/models", headers: [("anthropic-version", "2023-06-01")]).json?["data"]?[0]?["type"] == "model")
            _ = try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":"x"}]}"#)
            let metrics = try await get(port, "/metrics")
            #expect(metrics.text.contains("# HELP harness_http_requests_total"))
            #expect(metrics.text.contains(#"harness_http_requests_total{endpoint="chat_completions",status="200"} 1"#))
            #expect(metrics.text.contains(#"harness_provider_tokens_total{provider="scripted",type="input"}"#))
            #expect(try await get(port, "/").text.contains("Harness gateway"))
        }
    }
}

@Suite("Gateway agents and shared state")
struct GatewaySharedTests {
    @Test("An agent runs server-side; its events stream as SSE and the conversation is stored")
    func agentRunStreams() async throws {
        let stores = GatewayStores.inMemory()
        let yaml = """
            agents:
              weather:
                model: scripted
                instructions: Answer about the weather.
                tools: [get_weather]
            """
        try await withGateway(yaml, stores: stores) { port, _, _ in
            let answer = try await post(port, "/v1/agents/weather/runs", #"{"input":"Weather in Paris?","stream":true,"conversation_id":"c1"}"#)
            #expect(answer.status == 200)
            let events = answer.text.components(separatedBy: "\n\n").compactMap { block in
                block.split(separator: "\n").first { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            }
            #expect(events.first == "iteration")
            #expect(events.contains("tool_call") && events.contains("tool_result") && events.contains("text_delta"))
            #expect(events.last == "finished")
            #expect(answer.text.contains("cloudy"))
            let stored = try await stores.conversations?.load(conversationID: "c1", tenant: "default", last: nil) ?? []
            #expect(stored.count >= 4)  // user, assistant tool call, tool result, assistant answer
            let missing = try await post(port, "/v1/agents/nobody/runs", #"{"input":"x"}"#)
            #expect(missing.status == 404)
            #expect(missing.json?["error"]?["code"] == "agent_not_found")
        }
    }

    @Test("Two instances on one PostgreSQL share keys and spend")
    func twoInstancesShareState() async throws {
        let server = try PostgresForGateway.serverURL()
        try await PostgresDatabase.withDatabase(url: server) { database in
            let scoped = try database.inSchema("gw_\(String(UInt64.random(in: 0...UInt64.max), radix: 16))")
            try await scoped.migrate()
            func stores() -> GatewayStores {
                GatewayStores(keys: PostgresVirtualKeyStore(database: scoped), ledger: PostgresUsageLedger(database: scoped), conversations: nil)
            }
            let yaml = """
                server:
                  auth: required
                pricing:
                  scripted: {input: 100000, output: 100000}
                """
            let env = ["HARNESS_ADMIN_KEY": "admin-pg"]
            try await withGateway(yaml, environment: env, stores: stores()) { portA, _, _ in
                try await withGateway(yaml, environment: env, stores: stores()) { portB, gatewayB, _ in
                    let created = try await post(portA, "/admin/keys", #"{"name":"shared","budget_usd":1}"#, headers: [("authorization", "Bearer admin-pg")])
                    let key = try #require(created.json?["key"]?.stringValue)
                    let body = #"{"model":"scripted","messages":[{"role":"user","content":"hello"}]}"#
                    // Created on A, accepted on B.
                    #expect(try await post(portB, "/v1/chat/completions", body, headers: [("authorization", "Bearer " + key)]).status == 200)
                    await gatewayB.recorder.flush()
                    // Spent on B, refused on A.
                    let refused = try await post(portA, "/v1/chat/completions", body, headers: [("authorization", "Bearer " + key)])
                    #expect(refused.status == 429)
                    #expect(refused.json?["error"]?["code"] == "budget_exceeded")
                }
            }
        }
    }
}

/// The PostgreSQL server the test command starts (the tests fail, never skip, without it).
enum PostgresForGateway {
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["HARNESS_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw HarnessError(.invalidConfiguration, "HARNESS_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts a throwaway PostgreSQL")
        }
        return url
    }
}
