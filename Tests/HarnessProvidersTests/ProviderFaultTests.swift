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

/// Fault cases, on the OpenAI Chat adapter (the transport is shared by every provider).
@Suite struct ProviderFaultTests {
    static let request = OpenAIChatTests.request
    static let key = "sk-live-SECRETSECRETSECRET1234"

    static func model(_ server: WireTestServer, timeouts: ProviderTimeouts = .default) -> OpenAIChatModel {
        OpenAIChatTests.model(server, key: key, timeouts: timeouts)
    }

    static func providerError(_ error: (any Error)?) throws -> ProviderError {
        try #require(error as? ProviderError, "expected a ProviderError, got \(String(describing: error))")
    }

    @Test func rateLimitedWithRetryAfter() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"error":{"message":"Rate limit reached for gpt-4o","type":"tokens","code":"rate_limit_exceeded"}}"#,
                  status: 429, headers: [("retry-after", "7"), ("x-request-id", "req_429")])
        }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(events.isEmpty)
        let e = try Self.providerError(error)
        #expect(e.code == .rateLimited)
        #expect(e.status == 429)
        #expect(e.retryAfter == .seconds(7))
        #expect(e.isRetryable)
        #expect(e.requestID == "req_429")
        #expect(e.message == "Rate limit reached for gpt-4o")
    }

    @Test func retryAfterMillisecondsWins() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"error":{"message":"slow down","type":"requests"}}"#, status: 429, headers: [("retry-after-ms", "1500"), ("retry-after", "2")])
        }
        defer { server.shutdown() }
        let e = try await #require(throws: ProviderError.self) { try await Self.model(server).complete(Self.request) }
        #expect(e.retryAfter == .milliseconds(1500))
    }

    @Test func serverErrorsAndOverload() async throws {
        let cases: [(Int, String, ProviderError.Code, Bool)] = [
            (500, #"{"error":{"message":"The server had an error","type":"server_error"}}"#, .server, true),
            (529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, .overloaded, true),
            (503, "upstream unavailable", .overloaded, true),
            (401, #"{"error":{"message":"Incorrect API key provided: sk-live-SECRETSECRETSECRET1234.","type":"invalid_request_error","code":"invalid_api_key"}}"#, .authentication, false),
            (403, #"{"error":{"message":"not allowed","type":"permission_error"}}"#, .permission, false),
            (404, #"{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#, .notFound, false),
            (400, #"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#, .contextLengthExceeded, false),
            (400, #"{"error":{"message":"flagged","type":"invalid_request_error","code":"content_policy_violation"}}"#, .contentFiltered, false),
            (400, #"{"error":{"message":"bad","type":"invalid_request_error"}}"#, .invalidRequest, false),
        ]
        for (status, body, code, retryable) in cases {
            let server = try await WireTestServer.start { _ in .json(body, status: status) }
            defer { server.shutdown() }
            let (_, error) = await collect(Self.model(server).stream(Self.request))
            let e = try Self.providerError(error)
            #expect(e.code == code, "HTTP \(status)")
            #expect(e.isRetryable == retryable, "HTTP \(status)")
            #expect(e.status == status)
            #expect(!String(describing: e).contains("SECRET"), "the key leaked: \(e)")
        }
    }

    /// A reset mid-stream: the deltas before it are delivered, then an error that says the
    /// connection broke; no finish, no completed tool call.
    @Test func connectionResetMidStream() async throws {
        let bytes = try OpenAIChatTests.fixture("tool-calls-parallel-two-functions")
        let server = try await WireTestServer.start { _ in
            var reply = WireTestServer.Reply.sse(bytes, chunking: .sizes(Array(repeating: 256, count: 100)))
            reply.resetAfter = bytes.count / 2
            // Paced, so the client has read what came before the reset: a kernel may drop
            // unread received data when the RST arrives.
            reply.chunkDelay = .milliseconds(40)
            return reply
        }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .connection || e.code == .invalidResponse)
        #expect(e.isRetryable || e.code == .invalidResponse)
        #expect(!events.isEmpty)
        #expect(!events.contains { if case .finish = $0 { true } else { false } })
        #expect(!events.contains { if case .toolCallComplete = $0 { true } else { false } })
    }

    /// The stream ends cleanly at the HTTP level but without `[DONE]`.
    @Test func streamWithoutFinalEvent() async throws {
        let full = try OpenAIChatTests.fixture("text-only")
        let text = String(decoding: full, as: UTF8.self)
        let cut = Array(text.replacingOccurrences(of: "data: [DONE]\n\n", with: "").utf8)
        let server = try await WireTestServer.start { _ in .sse(cut) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("[DONE]"))
        #expect(summary(events).text.hasPrefix("I'm unable"))
    }

    @Test func malformedJSONInAChunk() async throws {
        let body = Array("""
            data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}

            data: {"id":"c1","choices":[{"index":0,"delta":{"content":" wor

            data: [DONE]

            """.utf8)
        let server = try await WireTestServer.start { _ in .sse(body) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(events == [.textDelta("Hello")])
        let e = try Self.providerError(error)
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("not valid JSON"))
    }

    @Test func errorEventInsideTheStream() async throws {
        let body = Array("""
            data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}

            data: {"error":{"message":"The server had an error while processing your request.","type":"server_error"}}


            """.utf8)
        let server = try await WireTestServer.start { _ in .sse(body) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(events == [.textDelta("Hi")])
        #expect(try Self.providerError(error).code == .server)
    }

    @Test func slowFirstByteTimesOut() async throws {
        let server = try await WireTestServer.start { _ in
            var reply = WireTestServer.Reply.sse(Array("data: [DONE]\n\n".utf8))
            reply.headDelay = .seconds(5)
            return reply
        }
        defer { server.shutdown() }
        let timeouts = ProviderTimeouts(firstByte: .milliseconds(200))
        let (_, error) = await collect(Self.model(server, timeouts: timeouts).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .timeout)
        #expect(e.message.contains("first-byte"))
        #expect(e.isRetryable)
    }

    @Test func stalledStreamTimesOutOnIdle() async throws {
        let bytes = try OpenAIChatTests.fixture("text-only")
        let server = try await WireTestServer.start { _ in
            var reply = WireTestServer.Reply.sse(bytes, chunking: .sizes([1000]))
            reply.stallAfter = 1000
            return reply
        }
        defer { server.shutdown() }
        let timeouts = ProviderTimeouts(idle: .milliseconds(200))
        let (events, error) = await collect(Self.model(server, timeouts: timeouts).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .timeout)
        #expect(e.message.contains("no data arrived"))
        #expect(!events.isEmpty)
    }

    @Test func totalTimeout() async throws {
        let bytes = try OpenAIChatTests.fixture("text-only")
        let server = try await WireTestServer.start { _ in
            var reply = WireTestServer.Reply.sse(bytes, chunking: .sizes(Array(repeating: 100, count: 200)))
            reply.chunkDelay = .milliseconds(50)
            return reply
        }
        defer { server.shutdown() }
        let timeouts = ProviderTimeouts(idle: .seconds(5), total: .milliseconds(300))
        let (_, error) = await collect(Self.model(server, timeouts: timeouts).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .timeout)
        #expect(e.message.contains("total"))
    }

    /// Stopping the iteration closes the connection: the server sees it go.
    @Test func cancellationClosesTheConnection() async throws {
        let bytes = try OpenAIChatTests.fixture("text-only")
        let server = try await WireTestServer.start { _ in
            var reply = WireTestServer.Reply.sse(bytes, chunking: .sizes(Array(repeating: 50, count: 400)))
            reply.chunkDelay = .milliseconds(100)
            return reply
        }
        defer { server.shutdown() }
        let model = Self.model(server)
        let task = Task {
            var count = 0
            for try await event in model.stream(Self.request) {
                if case .textDelta = event { count += 1 }
            }
            return count
        }
        while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(250))
        task.cancel()
        _ = await task.result
        var waited = 0
        while server.closedConnectionCount == 0, waited < 300 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(server.closedConnectionCount >= 1)
    }

    @Test func connectionRefused() async throws {
        // A port that was just free: bind, read the port, close.
        let server = try await WireTestServer.start { _ in .json("{}") }
        let port = server.port
        server.shutdown()
        try await Task.sleep(for: .milliseconds(50))
        // AsyncHTTPClient retries a refused connection until the connect timeout passes.
        let model = OpenAIChatModel(
            apiKey: Self.key,
            settings: ProviderSettings(
                baseURL: "http://127.0.0.1:\(port)/v1",
                providerName: "openai",
                timeouts: ProviderTimeouts(connect: .milliseconds(500))
            )
        )
        let (_, error) = await collect(model.stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .connection || e.code == .timeout)
        #expect(e.isRetryable)
        #expect(!e.description.contains("SECRET"))
    }

    /// Requests go to the proxy that HTTP_PROXY names (AsyncHTTPClient tunnels with CONNECT
    /// for every scheme), with its credentials; NO_PROXY hosts go direct.
    @Test func proxyFromEnvironment() async throws {
        let proxy = try await WireTestServer.start { request in
            request.method == "CONNECT" ? WireTestServer.Reply(status: 403) : .json("{}")
        }
        defer { proxy.shutdown() }
        let settings = ProxySettings(environment: [
            "http_proxy": "http://user:p%40ss@127.0.0.1:\(proxy.port)", "NO_PROXY": "localhost,.internal.example",
        ])
        let client = ProviderHTTPClient(proxy: settings)
        let model = OpenAIChatModel(
            apiKey: Self.key,
            settings: ProviderSettings(baseURL: "http://api.openai.example/v1", providerName: "openai"),
            client: client
        )
        let (_, error) = await collect(model.stream(Self.request))
        try await client.shutdown()
        let e = try Self.providerError(error)
        #expect(e.code == .connection)
        let connect = try #require(proxy.requests.first)
        #expect(connect.method == "CONNECT")
        #expect(connect.uri == "api.openai.example:80")
        #expect(connect.header("proxy-authorization") == "Basic " + Data("user:p@ss".utf8).base64EncodedString())
        #expect(!e.description.contains("SECRET"))
        #expect(settings.proxy(scheme: "http", host: "localhost") == nil)
        #expect(settings.proxy(scheme: "http", host: "api.internal.example") == nil)
        #expect(settings.proxy(scheme: "https", host: "api.openai.com") == nil)  // no HTTPS_PROXY
        #expect(settings.proxy(scheme: "http", host: "api.openai.com")?.port == proxy.port)
    }

    @Test func rateLimitStateFromHeaders() async throws {
        let bytes = try OpenAIChatTests.fixture("text-only")
        let seen = Mutex<[RateLimitState]>([])
        let server = try await WireTestServer.start { _ in
            .sse(bytes, headers: [
                ("x-ratelimit-limit-requests", "500"), ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", "1.5s"), ("x-ratelimit-limit-tokens", "30000"),
                ("x-ratelimit-remaining-tokens", "29000"), ("x-ratelimit-reset-tokens", "6m0s"),
            ])
        }
        defer { server.shutdown() }
        var settings = ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai")
        settings.rateLimitObserver = { state in seen.withLock { $0.append(state) } }
        _ = await collect(OpenAIChatModel(apiKey: Self.key, settings: settings).stream(Self.request))
        let state = try #require(seen.withLock { $0.first })
        #expect(state.requests.limit == 500)
        #expect(state.requests.remaining == 0)
        #expect(state.tokens.remaining == 29000)
        let reset = try #require(state.tokens.resetsAt)
        #expect(abs(reset.timeIntervalSince(state.observedAt) - 360) < 0.01)
        let delay = try #require(state.suggestedDelay(now: state.observedAt))
        #expect(delay == .milliseconds(1500))
    }
}

/// The adaptive limiter holds the next request until the exhausted window resets.
@Suite struct AdaptiveRateLimiterTests {
    @Test func holdsUntilTheExhaustedWindowResets() async throws {
        let limiter = AdaptiveRateLimiter()
        #expect(limiter.delay(for: "openai") == nil)
        var state = RateLimitState(observedAt: Date())
        state.requests = .init(limit: 500, remaining: 0, resetsAt: Date().addingTimeInterval(0.3))
        limiter.observe(state, key: "openai")
        let delay = try #require(limiter.delay(for: "openai"))
        #expect(delay > .milliseconds(200) && delay <= .milliseconds(300))
        #expect(limiter.delay(for: "anthropic") == nil)  // per key
        let start = ContinuousClock.now
        try await limiter.acquire(key: "openai", cost: 1)
        #expect(ContinuousClock.now - start >= .milliseconds(200))
    }

    @Test func refusesWaitsLongerThanItsMaximum() async throws {
        let limiter = AdaptiveRateLimiter(maxWait: .seconds(1))
        var state = RateLimitState(observedAt: Date())
        state.retryAfter = .seconds(30)
        limiter.observe(state, key: "k")
        let error = try await #require(throws: HarnessError.self) { try await limiter.acquire(key: "k", cost: 1) }
        #expect(error.code == .rateLimited)
        #expect(error.retryAfter.map { $0 > .seconds(29) } == true)
    }

    @Test func headersOfARealResponseFeedIt() async throws {
        let bytes = try OpenAIChatTests.fixture("text-only")
        let server = try await WireTestServer.start { _ in
            .sse(bytes, headers: [
                ("anthropic-ratelimit-requests-limit", "50"), ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", ISO8601DateFormatter().string(from: Date().addingTimeInterval(20))),
            ])
        }
        defer { server.shutdown() }
        let limiter = AdaptiveRateLimiter()
        var settings = ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai")
        settings.rateLimitObserver = limiter.observer(key: "p")
        _ = await collect(OpenAIChatModel(apiKey: nil, settings: settings).stream(OpenAIChatTests.request))
        let delay = try #require(limiter.delay(for: "p"))
        #expect(delay > .seconds(15) && delay <= .seconds(20))
    }
}

/// A streamed request answered with one JSON body (as LiteLLM's Anthropic route does for
/// mocked answers) is delivered as that answer's events.
@Suite struct WholeAnswerToStreamTests {
    @Test func anthropicJSONAnswerToAStreamedRequest() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"content":[{"text":"Hello from a proxy.","type":"text"}],"id":"msg_1","model":"claude-mock","role":"assistant","stop_reason":"end_turn","stop_sequence":null,"type":"message","usage":{"input_tokens":20,"output_tokens":5}}"#)
        }
        defer { server.shutdown() }
        let model = AnthropicModel(apiKey: "sk-ant-test-0123456789", settings: ProviderSettings(baseURL: server.baseURL, providerName: "anthropic"))
        let (events, error) = await collect(model.stream(OpenAIChatTests.request))
        #expect(error == nil)
        checkGrammar(events)
        #expect(summary(events).text == "Hello from a proxy.")
        #expect(summary(events).usage == Usage(inputTokens: 20, outputTokens: 5))
        #expect(summary(events).finish == .stop)
    }
}
