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
import HarnessProviders
import HarnessProvidersTesting
@testable import HarnessServer
import HarnessTesting
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

/// A chat completion as an OpenAI-compatible upstream answers it.
func upstreamCompletion(_ text: String, model: String = "m-2025", prompt: Int = 11, completion: Int = 4) -> String {
    #"{"id":"chatcmpl-upstream","object":"chat.completion","created":1,"model":"\#(model)","system_fingerprint":"fp_x","choices":[{"index":0,"message":{"role":"assistant","content":\#(JSONValue.quoted(text))},"finish_reason":"stop"}],"usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion),"total_tokens":\#(prompt + completion)}}"#
}

/// Sends `raw` (one or more HTTP/1.1 requests, pipelined) on one connection and returns what
/// came back once `expected` responses have arrived (or the server closed the connection).
func exchangeRaw(port: Int, _ raw: String, expected: Int) async throws -> String {
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        let expected: Int
        let done: EventLoopPromise<String>
        init(expected: Int, done: EventLoopPromise<String>) {
            self.expected = expected
            self.done = done
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytesView
            if exchangeRawComplete(bytes) >= expected { done.succeed(String(decoding: bytes, as: UTF8.self)) }
        }
        func channelInactive(context: ChannelHandlerContext) { done.succeed(String(decoding: bytes, as: UTF8.self)) }
    }
    let group = MultiThreadedEventLoopGroup.singleton
    let promise = group.next().makePromise(of: String.self)
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(Collector(expected: expected, done: promise))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    try await channel.writeAndFlush(ByteBuffer(string: raw))
    let text = try await promise.futureResult.get()
    try? await channel.close()
    return text
}

/// A client connection that sends bytes when told and collects what comes back.
final class RawConnection: Sendable {
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex<[UInt8]>([])
        let closed = Atomic<Bool>(false)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let chunk = unwrapInboundIn(data)
            bytes.withLock { $0 += chunk.readableBytesView }
        }
        func channelInactive(context: ChannelHandlerContext) { closed.store(true, ordering: .relaxed) }
    }

    let channel: any Channel
    let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// - Parameter autoRead: false for a client that reads nothing until ``startReading()``.
    ///   Its receive buffer is then small, so that the server's writes back up soon.
    static func open(port: Int, autoRead: Bool = true) async throws -> RawConnection {
        let collector = Collector()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: autoRead)
        if !autoRead { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: 4096) }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
    }

    func send<Bytes: Sequence<UInt8>>(_ bytes: Bytes) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Waits (up to 10 s) until `responses` complete responses came back; returns them as text.
    @discardableResult
    func waitFor(responses: Int) async throws -> String {
        for _ in 0..<1000 {
            let bytes = collector.bytes.withLock { $0 }
            if exchangeRawComplete(bytes) >= responses || collector.closed.load(ordering: .relaxed) {
                return String(decoding: bytes, as: UTF8.self)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return String(decoding: collector.bytes.withLock { $0 }, as: UTF8.self)
    }

    /// Waits (up to 10 s) until what came back ends with `suffix`; returns it as text.
    func waitFor(suffix: String) async throws -> String {
        for _ in 0..<1000 {
            let text = String(decoding: collector.bytes.withLock { $0 }, as: UTF8.self)
            if text.hasSuffix(suffix) || collector.closed.load(ordering: .relaxed) { return text }
            try await Task.sleep(for: .milliseconds(10))
        }
        return String(decoding: collector.bytes.withLock { $0 }, as: UTF8.self)
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Complete responses at the start of `bytes` (each carries a Content-Length).
func exchangeRawComplete(_ bytes: [UInt8]) -> Int {
    var count = 0
    var start = 0
    let separator: [UInt8] = Array("\r\n\r\n".utf8)
    while let end = bytes[start...].firstRange(of: separator) {
        let head = String(decoding: bytes[start..<end.lowerBound], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return count }
        guard bytes.count - end.upperBound >= length else { return count }
        count += 1
        start = end.upperBound + length
    }
    return count
}

func rawPost(_ path: String, _ body: String, extra: String = "") -> String {
    "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
}

@Suite("Gateway relay")
struct GatewayRelayTests {
    @Test("A plain chat request is relayed: the client's JSON goes up with the model renamed; the answer comes back with the gateway's id and model name, booked")
    func relaysChat() async throws {
        let server = try await WireTestServer.start { request in
            request.method == "GET" ? .json("{}") : .json(upstreamCompletion("relayed hello"))
        }
        defer { server.shutdown() }
        let stores = GatewayStores.inMemory()
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment, stores: stores) { port, gateway, _ in
            #expect(gateway.relayModelNames == ["up"])
            let body = #"{"model":"up","messages":[{"role":"user","content":"hi"}],"temperature":0.25,"vendor_extension":{"keep":[1,"two"]},"max_tokens":7}"#
            let answer = try await post(port, "/v1/chat/completions", body)
            #expect(answer.status == 200)
            #expect(gateway.relayedRequests == 1)
            #expect(gateway.relayedFromBytes.load(ordering: .relaxed) == 1)  // read by the front, ahead of the codec
            let json = try #require(answer.json)
            #expect(json["choices"]?[0]?["message"]?["content"] == "relayed hello")
            #expect(json["model"] == "up")
            #expect(json["id"]?.stringValue == answer.headers.first(name: "x-request-id"))
            #expect(json["system_fingerprint"] == "fp_x")
            #expect(answer.headers.first(name: "date") != nil)
            let sent = try #require(server.requests.first { $0.method == "POST" })
            #expect(sent.uri == "/v1/chat/completions")
            #expect(sent.header("authorization") == "Bearer sk-test-upstream-0123456789abcdef")
            let upstreamJSON = try JSONValue(parsing: sent.bodyText)
            #expect(upstreamJSON["model"] == "m")
            #expect(upstreamJSON["temperature"] == 0.25)
            #expect(upstreamJSON["max_tokens"] == 7)
            #expect(upstreamJSON["vendor_extension"] == JSONValue.object(["keep": .array([1, "two"])]))
            #expect(upstreamJSON["messages"]?[0]?["content"] == "hi")

            // A second request reuses the upstream connection.
            #expect(try await post(port, "/v1/chat/completions", body).status == 200)
            #expect(gateway.relayedRequests == 2)
            await gateway.recorder.flush()
            let usage = try await stores.ledger.aggregate(tenant: "default", by: .model, since: nil, until: nil)
            #expect(usage.first?.requests == 2)
            #expect(usage.first?.usage.inputTokens == 22)
            #expect(usage.first?.usage.outputTokens == 8)
            let metrics = try await get(port, "/metrics")
            #expect(metrics.text.contains(#"harness_http_requests_total{endpoint="chat_completions",status="200"} 2"#))
            #expect(metrics.text.contains(#"harness_provider_tokens_total{provider="openai",type="output"} 8"#))
        }
    }

    @Test("Other models, malformed JSON and `server.relay: false` take the full path")
    func fullPathCases() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            return request.bodyText.contains(#""stream":true"#) ? .sse(openAISSE(["a", "b"])) : .json(upstreamCompletion("ok"))
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, gateway, _ in
            let scripted = try await post(port, "/v1/chat/completions", #"{"model":"scripted","messages":[{"role":"user","content":"x"}]}"#)
            #expect(scripted.status == 404)  // not declared: the full path names the models there are
            let broken = try await post(port, "/v1/chat/completions", #"{"model":"up","messages":[}"#)
            #expect(broken.status == 400)
            #expect(broken.json?["error"]?["code"] == "invalid_json")
            let missing = try await post(port, "/v1/chat/completions", #"{"model":"up"}"#)
            #expect(missing.status == 400)
            #expect(missing.json?["error"]?["message"]?.stringValue?.contains("messages") == true)
            #expect(gateway.relayedRequests == 0)
            #expect(try await post(port, "/v1/chat/completions", chatBody).status == 200)
            #expect(gateway.relayedRequests == 1)
        }
        try await withGateway(upstreamYAML(server, extra: "server:\n  relay: false"), environment: upstreamEnvironment) { port, gateway, _ in
            #expect(gateway.relayModelNames.isEmpty)
            let answer = try await post(port, "/v1/chat/completions", chatBody)
            #expect(answer.status == 200 && answer.json?["model"] == "up")
            #expect(gateway.relayedRequests == 0)
        }
        // Two routes (a fallback) or an HTTPS base URL: the full path only.
        let yaml = """
            models:
              two:
                routes:
                  - {provider: openai, model: m, base_url: "\(server.baseURL)/v1", api_key_env: TEST_UPSTREAM_KEY}
                  - {provider: scripted}
              tls:
                provider: openai
                model: m
                base_url: https://127.0.0.1:1/v1
                api_key_env: TEST_UPSTREAM_KEY
            """
        let configuration = try ConfigLoader.load(yaml: yaml)
        let gateway = try Gateway(configuration: configuration, stores: .inMemory(), environment: upstreamEnvironment)
        #expect(gateway.relayModelNames.isEmpty)
        // A key that could not go on the wire as a header value is not relayed either.
        let crooked = try Gateway(
            configuration: try ConfigLoader.load(yaml: upstreamYAML(server)), stores: .inMemory(),
            environment: ["TEST_UPSTREAM_KEY": "sk-1\r\nx-injected: 1"]
        )
        #expect(crooked.relayModelNames.isEmpty)
        #expect(RelayRoute.validHeaders(["authorization": "Bearer sk-1\tx"]))
        #expect(!RelayRoute.validHeaders(["bad name": "x"]))
    }

    @Test("An upstream error is asked again by the full path, which answers in the client's format")
    func upstreamErrorGoesToFullPath() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            return .json(#"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#, status: 429, headers: [("retry-after", "7")])
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server, extra: "retry:\n  max_attempts: 1"), environment: upstreamEnvironment) { port, gateway, _ in
            let answer = try await post(port, "/v1/chat/completions", chatBody)
            #expect(answer.status == 429)
            #expect(answer.json?["error"]?["code"] == "upstream_rate_limited")
            #expect(answer.headers.first(name: "retry-after") == "7")
            #expect(gateway.relayReplayedRequests == 1)
            #expect(gateway.relayedRequests == 0)
            #expect(server.requests.filter { $0.method == "POST" }.count == 2)  // the relay's try and the full path's
        }
    }

    @Test("A 200 that is not a chat completion reaches the client as the full path's 502, not as the upstream's bytes")
    func invalidAnswer() async throws {
        let server = try await WireTestServer.start { request in
            request.method == "GET" ? .json("{}") : .json(#"{"choices": "not a list""#)
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server, extra: "retry:\n  max_attempts: 1"), environment: upstreamEnvironment) { port, gateway, _ in
            let answer = try await post(port, "/v1/chat/completions", chatBody)
            #expect(answer.status == 502)
            #expect(answer.json?["error"] != nil)
            #expect(gateway.relayReplayedRequests == 1)
        }
    }

    @Test("Pipelined requests get their answers in order, relayed or not")
    func pipelining() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            var reply = WireTestServer.Reply.json(upstreamCompletion("first"))
            reply.headDelay = .milliseconds(150)  // the next requests arrive while this one is relayed
            return reply
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server, extra: "  echo:\n    provider: scripted"), environment: upstreamEnvironment) { port, gateway, _ in
            let raw = rawPost("/v1/chat/completions", chatBody)
                + "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                + rawPost("/v1/chat/completions", #"{"model":"echo","messages":[{"role":"user","content":"third"}]}"#)
                + rawPost("/v1/chat/completions", chatBody)
            let text = try await exchangeRaw(port: port, raw, expected: 4)
            let first = try #require(text.range(of: "\"first\""))
            let second = try #require(text.range(of: #"{"status":"ok"}"#))
            let third = try #require(text.range(of: "You said: third"))
            let fourth = try #require(text.range(of: "\"first\"", range: third.upperBound..<text.endIndex))
            #expect(first.lowerBound < second.lowerBound && second.lowerBound < third.lowerBound && third.lowerBound < fourth.lowerBound)
            // The first is relayed; the ones held behind it follow the full path's answers in order.
            #expect(gateway.relayedRequests >= 1)
        }
    }

    @Test("The front reads a request that arrives a few bytes at a time and lends other requests to the codec one at a time; at bytes it does not read, the connection goes to the codec, where the relay still serves")
    func frontHandsOver() async throws {
        let server = try await WireTestServer.start { request in
            request.method == "GET" ? .json("{}") : .json(upstreamCompletion("piecewise"))
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, gateway, _ in
            let fromBytes = { gateway.relayedFromBytes.load(ordering: .relaxed) }
            let connection = try await RawConnection.open(port: port)
            defer { connection.close() }
            let first = Array(rawPost("/v1/chat/completions", chatBody, extra: "Authorization: Bearer none\r\n").utf8)
            for start in stride(from: 0, to: first.count, by: 7) {
                try await connection.send(first[start..<min(start + 7, first.count)])
                try await Task.sleep(for: .milliseconds(2))
            }
            try await connection.waitFor(responses: 1)
            #expect(fromBytes() == 1)
            // Lent to the codec, answered by the full path; the front goes on after it.
            try await connection.send(Array("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            try await connection.waitFor(responses: 2)
            try await connection.send(Array(rawPost("/v1/chat/completions", chatBody).utf8))
            try await connection.waitFor(responses: 3)
            #expect(fromBytes() == 2)
            // A chunked body is never the front's: the codec reads it, and the relay behind it serves it.
            let chunked = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(chatBody.utf8.count, radix: 16) + "\r\n" + chatBody + "\r\n0\r\n\r\n"
            try await connection.send(Array(chunked.utf8))
            try await connection.waitFor(responses: 4)
            try await connection.send(Array(rawPost("/v1/chat/completions", chatBody).utf8))
            let text = try await connection.waitFor(responses: 5)
            #expect(text.components(separatedBy: "piecewise").count == 5)
            #expect(text.contains(#"{"status":"ok"}"#))
            #expect(gateway.relayedRequests == 4)
            #expect(fromBytes() == 2)
            let posts = server.requests.filter { $0.method == "POST" }
            #expect(posts.count == 4)
            #expect(posts.allSatisfy { (try? JSONValue(parsing: $0.bodyText))?["model"] == "m" })
        }
    }

    @Test("Graceful shutdown lets a relayed request finish")
    func gracefulShutdown() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            var reply = WireTestServer.Reply.json(upstreamCompletion("late"))
            reply.headDelay = .milliseconds(400)
            return reply
        }
        defer { server.shutdown() }
        let stores = GatewayStores.inMemory()
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment, stores: stores) { port, gateway, group in
            async let answer = post(port, "/v1/chat/completions", chatBody)
            while !server.requests.contains(where: { $0.method == "POST" }) { try await Task.sleep(for: .milliseconds(5)) }
            await group.triggerGracefulShutdown()
            let result = try await answer
            #expect(result.status == 200)
            #expect(result.json?["choices"]?[0]?["message"]?["content"] == "late")
            #expect(gateway.relayedRequests == 1)
        }
        let usage = try await stores.ledger.aggregate(tenant: "default", by: .model, since: nil, until: nil)
        #expect(usage.first?.requests == 1)
    }

    @Test("A client that leaves while its request is relayed closes the upstream connection")
    func clientLeaves() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            var reply = WireTestServer.Reply.json(upstreamCompletion("too late"))
            reply.headDelay = .seconds(5)
            return reply
        }
        defer { server.shutdown() }
        try await withGateway(upstreamYAML(server), environment: upstreamEnvironment) { port, _, _ in
            let group = MultiThreadedEventLoopGroup.singleton
            let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
            try await channel.writeAndFlush(ByteBuffer(string: rawPost("/v1/chat/completions", chatBody)))
            while !server.requests.contains(where: { $0.method == "POST" }) { try await Task.sleep(for: .milliseconds(5)) }
            let closedBefore = server.closedConnectionCount
            try await channel.close()
            var waited = 0
            while server.closedConnectionCount == closedBefore && waited < 100 {
                try await Task.sleep(for: .milliseconds(20))
                waited += 1
            }
            #expect(server.closedConnectionCount > closedBefore, "the upstream connection stayed open after the client left")
        }
    }

    @Test("No answer within the route's first-byte timeout, or a stalled one past the total: a 504 in the OpenAI format, booked as a timeout")
    func timeout() async throws {
        let server = try await WireTestServer.start { request in
            if request.method == "GET" { return .json("{}") }
            var reply = WireTestServer.Reply.json(upstreamCompletion("never"))
            if request.bodyText.contains("stall") {
                reply.stallAfter = 10  // the head and a little of the body, then nothing
            } else {
                reply.headDelay = .seconds(5)
            }
            return reply
        }
        defer { server.shutdown() }
        let stores = GatewayStores.inMemory()
        let gateway = try Gateway(configuration: try ConfigLoader.load(yaml: upstreamYAML(server)), stores: stores, environment: upstreamEnvironment)
        var routes = gateway.relayRoutes
        routes["up"]?.timeouts.firstByte = .milliseconds(200)
        routes["up"]?.timeouts.total = .milliseconds(600)
        var server2 = GatewayServer(gateway: gateway, host: "127.0.0.1", port: 0)
        server2.relayRoutes = routes
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = server2.makeServiceGroup(signals: false) { port in continuation.yield(port) }
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let answer = try await post(port, "/v1/chat/completions", chatBody)
        // An answer that begins in time and then stalls is cut at the total timeout.
        let stalled = try await post(port, "/v1/chat/completions", #"{"model":"up","messages":[{"role":"user","content":"stall"}]}"#)
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(answer.status == 504)
        #expect(answer.json?["error"]?["code"] == "upstream_timeout")
        #expect(answer.json?["error"]?["message"]?.stringValue?.contains("first-byte") == true)
        #expect(stalled.status == 504)
        #expect(stalled.json?["error"]?["message"]?.stringValue?.contains("total timeout") == true)
        let usage = try await stores.ledger.aggregate(tenant: "default", by: .model, since: nil, until: nil)
        #expect(usage.first?.requests == 2)
    }

    @Test("Virtual keys on the relay: the rate limit and the budget refuse through the full path, in the client's format")
    func keysOnRelay() async throws {
        let server = try await WireTestServer.start { request in
            request.method == "GET" ? .json("{}") : .json(upstreamCompletion("paid", prompt: 1000, completion: 1000))
        }
        defer { server.shutdown() }
        let stores = GatewayStores.inMemory()
        let yaml = upstreamYAML(server, extra: "server:\n  auth: required\npricing:\n  m: {input: 1, output: 1}")
        try await withGateway(yaml, environment: upstreamEnvironment.merging(["HARNESS_ADMIN_KEY": "admin-secret-2"]) { a, _ in a }, stores: stores) { port, gateway, _ in
            let admin = [("authorization", "Bearer admin-secret-2")]
            let limited = try await post(port, "/admin/keys", #"{"name":"rpm","rpm":3}"#, headers: admin)
            let limitedKey = [("authorization", "Bearer " + (limited.json?["key"]?.stringValue ?? ""))]
            #expect(try await post(port, "/v1/chat/completions", chatBody).status == 401)
            // The first request fills the key cache (full path); the next ones are relayed.
            for _ in 0..<3 { #expect(try await post(port, "/v1/chat/completions", chatBody, headers: limitedKey).status == 200) }
            #expect(gateway.relayedRequests == 2)
            let refused = try await post(port, "/v1/chat/completions", chatBody, headers: limitedKey)
            #expect(refused.status == 429)
            #expect(refused.json?["error"]?["code"] == "rate_limit_exceeded")

            // 2,000 tokens at $1 per million: $0.002 a request against a $0.003 budget.
            let budget = try await post(port, "/admin/keys", #"{"name":"budget","budget_usd":0.003}"#, headers: admin)
            let budgetKey = [("x-api-key", budget.json?["key"]?.stringValue ?? "")]
            #expect(try await post(port, "/v1/chat/completions", chatBody, headers: budgetKey).status == 200)
            #expect(try await post(port, "/v1/chat/completions", chatBody, headers: budgetKey).status == 200)
            let broke = try await post(port, "/v1/chat/completions", chatBody, headers: budgetKey)
            #expect(broke.status == 429)
            #expect(broke.json?["error"]?["code"] == "budget_exceeded")
            #expect(gateway.relayedRequests == 3)
            // The other requests were lent to the codec one at a time: the front kept its connections.
            #expect(gateway.relayedFromBytes.load(ordering: .relaxed) == 3)
        }
    }
}

@Suite("Relay JSON scanning")
struct RelayJSONTests {
    func request(_ text: String) -> RelayJSON.Request? {
        Array(text.utf8).withUnsafeBufferPointer { RelayJSON.request($0) }
    }

    @Test("A request's model, stream and messages are found; the model is replaced in place, the rest kept byte for byte")
    func requestScan() throws {
        let text = #"{ "temperature": 0.5, "model" : "up\u00e9", "messages": [{"role":"user","content":"a \"b\""}], "extra": {"model": "inner"} }"#
        let found = try #require(request(text))
        #expect(found.model == "upé")
        #expect(!found.stream && found.hasMessages)
        var out: [UInt8] = []
        Array(text.utf8).withUnsafeBufferPointer { RelayJSON.replacing($0, [(found.modelRange, "m-\"x\"")], into: &out) }
        let rewritten = String(decoding: out, as: UTF8.self)
        #expect(rewritten == #"{ "temperature": 0.5, "model" : "m-\"x\"", "messages": [{"role":"user","content":"a \"b\""}], "extra": {"model": "inner"} }"#)
        guard case .object(var expected) = try JSONValue(parsing: text) else { throw HarnessError(.parse, "not an object") }
        expected["model"] = "m-\"x\""
        #expect(try JSONValue(parsing: rewritten) == .object(expected))
    }

    @Test("Requests the relay leaves to the full path", arguments: [
        #"{"model":"up","messages":[]}"#,
        #"{"model":"up","messages":[{}],"stream":true,"stream_options":{"include_usage":"yes"}}"#,
        #"{"model":"up","messages":[{}],"stream":true,"stream_options":null}"#,
        #"{"model":"up","messages":[{}],"stream":true,"stream_options":{"include_usage":true,"include_usage":true}}"#,
        #"{"model":"up"}"#,
        #"{"model":"up","messages":"x"}"#,
        #"{"model":"up","model":"other","messages":[{}]}"#,
        #"{"mod\u0065l":"up","messages":[{}]}"#,
        #"{"model":null,"messages":[{}]}"#,
        #"{"model":"up","messages":[{}],}"#,
        #"{"model":"up","messages":[{}]} trailing"#,
        #"{"model":"up","messages":[{"content":"\x"}]}"#,
        #"["model","up"]"#,
        "",
    ])
    func refused(text: String) {
        let found = request(text)
        #expect(found == nil || found?.hasMessages == false)
    }

    @Test("A stream's options are found; the upstream is asked for usage by an edit in place, the rest kept byte for byte")
    func streamOptions() throws {
        let plain = #" {"model":"up","stream":true,"messages":[{"role":"user","content":"x"}]}"#
        let found = try #require(request(plain))
        #expect(found.stream && !found.includeUsage && found.streamOptionsRange == nil && found.memberInsertion == 2)
        var out: [UInt8] = []
        Array(plain.utf8).withUnsafeBufferPointer {
            RelayJSON.editing($0, [(found.modelRange, .string("m")), (2..<2, .raw(#""stream_options":{"include_usage":true},"#))], into: &out)
        }
        #expect(String(decoding: out, as: UTF8.self) == #" {"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)

        let asked = #"{"model":"up","stream":true,"stream_options":{"x":[1],"include_usage":true},"messages":[{}]}"#
        let withUsage = try #require(request(asked))
        #expect(withUsage.includeUsage)
        #expect(withUsage.streamOptionsRange.map { Array(Array(asked.utf8)[$0]) } == Array(#"{"x":[1],"include_usage":true}"#.utf8))
        let declined = try #require(request(#"{"model":"up","stream":true,"stream_options":{"include_usage":false},"messages":[{}]}"#))
        #expect(!declined.includeUsage && declined.streamOptionsRange != nil)
    }

    @Test("Usage is read in place as the provider's JSON reading reads it, whatever its shape", arguments: [
        #"{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}"#,
        #"{"prompt_tokens":12,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":5,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":3,"accepted_prediction_tokens":0}}"#,
        #"{"prompt_tokens_details":{"cached_tokens":5,"cache_write_tokens":2},"prompt_tokens":9}"#,
        #"{"prompt_tokens":1e3,"completion_tokens":2.0}"#,
        #"{"prompt_tokens":"12","completion_tokens":null,"prompt_tokens_details":null}"#,
        #"{"prompt_tokens":-3,"completion_tokens":99999999999999999999}"#,
        #"{"pr\u006fmpt_tokens":4}"#,
        #"{"prompt_tokens":4,"prompt_tokens":6}"#,
        #"{}"#,
    ])
    func usageInPlace(text: String) throws {
        let fast = Array(text.utf8).withUnsafeBufferPointer { RelayJSON.usage($0) }
        #expect(fast == OpenAIChatWire.usage(try JSONValue(parsing: text)))
    }

    @Test("The presented key: x-api-key first, else a Bearer token in any case; blanks trimmed, other schemes and empty keys are none", arguments: [
        (nil, " hk-1\t", "hk-1"),
        ("Bearer hk-2", "hk-1", "hk-1"),
        ("Bearer hk-2", nil, "hk-2"),
        ("  bEaReR \t hk-3  ", nil, "hk-3"),
        ("Bearer ké-4 ", nil, "ké-4"),
        ("Bearer e\u{301}", nil, "e\u{301}"),
        ("Bearer", nil, nil),
        ("Bearer   ", nil, nil),
        ("Bearer\thk-5", nil, nil),
        ("Basic aGs6MQ==", nil, nil),
        (nil, "  ", nil),
        ("", "", nil),
    ] as [(String?, String?, String?)])
    func presentedKey(authorization: String?, xAPIKey: String?, expected: String?) {
        #expect(KeyAuthenticator.presentedKey(authorization: authorization, xAPIKey: xAPIKey) == expected)
    }

    @Test("An answer's id and model are replaced; usage is read; other members stay as they came")
    func answerRewrite() throws {
        let text = #"{"id":"chatcmpl-up","object":"chat.completion","model":"m-2025","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5},"x_vendor":{"id":"keep"}}"#
        let rewritten = try #require(GatewayRelay.rewrite(ByteBuffer(string: text), id: "chatcmpl-ours", model: "alias"))
        #expect(String(decoding: rewritten.bytes, as: UTF8.self) == text.replacingOccurrences(of: #""id":"chatcmpl-up""#, with: #""id":"chatcmpl-ours""#).replacingOccurrences(of: "m-2025", with: "alias"))
        #expect(rewritten.usage?.outputTokens == 2 && rewritten.usage?.inputTokens == 3)
        // Without id and model (some servers): rebuilt with them.
        let bare = try #require(GatewayRelay.rewrite(ByteBuffer(string: #"{"choices":[]}"#), id: "i", model: "m"))
        #expect(try JSONValue(parsing: String(decoding: bare.bytes, as: UTF8.self)) == ["choices": [], "id": "i", "model": "m"])
        #expect(GatewayRelay.rewrite(ByteBuffer(string: #"{"choices":{}}"#), id: "i", model: "m") == nil)
        #expect(GatewayRelay.rewrite(ByteBuffer(string: #"{"choices":[],"id":"a","id":"b"}"#), id: "i", model: "m") == nil)
        #expect(GatewayRelay.rewrite(ByteBuffer(string: #"{"choices":[]"#), id: "i", model: "m") == nil)
    }
}
