//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import HarnessCore
import HarnessProviders
import HarnessProvidersTesting
import HarnessTesting
import Synchronization
import Testing

/// OpenAI Chat Completions SSE for `text` (in pieces), optional tool calls, and finish.
func sse(_ pieces: [String], calls: [(id: String, name: String, args: String)] = [], done: Bool = true) -> [UInt8] {
    func chunk(_ delta: String, finish: String? = nil) -> String {
        let f = finish.map { "\"\($0)\"" } ?? "null"
        return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":\(delta),\"finish_reason\":\(f)}]}\n\n"
    }
    func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    var body = ""
    for p in pieces { body += chunk("{\"content\":\(quoted(p))}") }
    for (i, c) in calls.enumerated() {
        body += chunk("{\"tool_calls\":[{\"index\":\(i),\"id\":\"\(c.id)\",\"type\":\"function\",\"function\":{\"name\":\"\(c.name)\",\"arguments\":\(quoted(c.args))}}]}")
    }
    body += chunk("{}", finish: calls.isEmpty ? "stop" : "tool_calls")
    if done { body += "data: [DONE]\n\n" }
    return Array(body.utf8)
}

func completion(_ text: String) -> WireTestServer.Reply {
    .json(#"{"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"\#(text)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#)
}

func openAI(_ server: WireTestServer, timeouts: ProviderTimeouts = .default) -> OpenAIChatModel {
    OpenAIChatModel(
        apiKey: "sk-test-0123456789abcdef",
        settings: ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai", timeouts: timeouts)
    )
}

let question = ModelRequest(model: "gpt-4o", messages: [.user("What's the weather in Paris?")])

func drain(_ stream: ModelEventStream) async -> ([ModelStreamEvent], (any Error)?) {
    var events: [ModelStreamEvent] = []
    do {
        for try await e in stream { events.append(e) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

@Suite struct FlakyUpstreamTests {
    /// 429 with Retry-After, then 500, then success: the retry waits at least Retry-After,
    /// the 500 backs off within its cap, three requests reach the server.
    @Test func retriesFollowRetryAfterAndBackoff() async throws {
        let count = Mutex(0)
        let server = try await WireTestServer.start { _ in
            let n = count.withLock { c in defer { c += 1 }; return c }
            switch n {
            case 0: return .json(#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#, status: 429, headers: [("retry-after", "3")])
            case 1: return .json(#"{"error":{"message":"boom","type":"server_error"}}"#, status: 500)
            default: return completion("hello")
            }
        }
        defer { server.shutdown() }
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(100), factor: 2, maxDelay: .seconds(1), deadline: .seconds(60))
        let model = RetryingModel(openAI(server), policy: policy, clock: clock.clock, random: { 0.9 })
        let response = try await model.complete(question)
        #expect(response.message.text == "hello")
        #expect(server.requests.count == 3)
        #expect(clock.sleeps.count == 2)
        #expect(clock.sleeps[0] >= .seconds(3))  // Retry-After, over the 100 ms backoff
        #expect(clock.sleeps[1] <= policy.backoffCap(retry: 2))
        #expect(response.callReport?.attempts.map(\.errorCode) == ["rate_limited", "server", nil])
    }

    /// 400 is not retried: one request.
    @Test func invalidRequestIsNotRetried() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"error":{"message":"bad","type":"invalid_request_error"}}"#, status: 400)
        }
        defer { server.shutdown() }
        let model = RetryingModel(openAI(server), policy: RetryPolicy(maxAttempts: 5), clock: VirtualClock().clock)
        await #expect(throws: ProviderError.self) { try await model.complete(question) }
        #expect(server.requests.count == 1)
    }

    /// The primary answers 500s: its breaker trips; then calls fail over to the secondary
    /// without touching the primary; after the open timeout a probe goes through, and once
    /// the primary recovers, probes close the breaker and it serves again.
    @Test func breakerTripsFailsOverProbesAndCloses() async throws {
        let primaryUp = Mutex(false)
        let primary = try await WireTestServer.start { _ in
            primaryUp.withLock { $0 } ? completion("primary") : .json(#"{"error":{"message":"down"}}"#, status: 500)
        }
        let secondary = try await WireTestServer.start { _ in completion("secondary") }
        defer { primary.shutdown(); secondary.shutdown() }
        let clock = VirtualClock()
        let transitions = Mutex<[CircuitBreaker.State]>([])
        let router = Router(
            name: "smart",
            routes: [Route(name: "primary", model: openAI(primary)), Route(name: "secondary", model: openAI(secondary))],
            configuration: .init(
                strategy: .fallback, retry: RetryPolicy(maxAttempts: 2),
                circuitBreaker: .init(failureThreshold: 3, failureRateThreshold: nil, openTimeout: .seconds(30), successThreshold: 2)
            ),
            clock: clock.clock, onBreakerTransition: { t in transitions.withLock { $0.append(t.to) } }
        )
        for _ in 0..<3 { #expect(try await router.complete(question).message.text == "secondary") }
        #expect(primary.requests.count == 3)
        #expect(router.breaker(for: "primary")?.state == .open)
        let skipped = try await router.complete(question)
        #expect(skipped.message.text == "secondary")
        #expect(primary.requests.count == 3)  // failed fast: not called
        #expect(skipped.callReport?.attempts.first?.outcome == .skippedCircuitOpen)
        clock.advance(by: .seconds(31))
        primaryUp.withLock { $0 = true }
        let probe1 = try await router.complete(question)
        #expect(probe1.message.text == "primary")
        #expect(probe1.callReport?.attempts.first?.probe == true)
        _ = try await router.complete(question)
        #expect(router.breaker(for: "primary")?.state == .closed)
        #expect(transitions.withLock { $0 } == [.open, .halfOpen, .closed])
    }

    /// With the primary hanging and its breaker open, failing over costs < 100 ms over a
    /// direct call to the secondary (real clock, real HTTP) — without the breaker each call
    /// would wait for the 2 s attempt timeout. Minimum of 20 paired samples, so that a
    /// loaded machine does not fail it.
    @Test func failoverWithOpenBreakerIsFast() async throws {
        // The primary is down (every request a 503): one failure trips its breaker. No attempt
        // timeout is involved, so a loaded machine cannot make the secondary look slow.
        let primary = try await WireTestServer.start { _ in
            .json(#"{"error":{"message":"down","type":"server_error"}}"#, status: 503)
        }
        let secondary = try await WireTestServer.start { _ in completion("secondary") }
        defer { primary.shutdown(); secondary.shutdown() }
        let direct = openAI(secondary)
        let router = Router(
            name: "smart",
            routes: [Route(name: "primary", model: openAI(primary)), Route(name: "secondary", model: direct)],
            configuration: .init(
                retry: RetryPolicy(maxAttempts: 2),
                circuitBreaker: .init(failureThreshold: 1, openTimeout: .seconds(600))
            )
        )
        _ = try await router.complete(question)  // fails on the primary (tripping its breaker), served by the secondary
        #expect(router.breaker(for: "primary")?.state == .open)
        let before = primary.requests.count
        let clock = ContinuousClock()
        var directTimes: [Duration] = []
        var routedTimes: [Duration] = []
        for _ in 0..<20 {
            directTimes.append(try await clock.measure { _ = try await direct.complete(question) })
            routedTimes.append(try await clock.measure { _ = try await router.complete(question) })
        }
        let overhead = routedTimes.min()! - directTimes.min()!
        print("failover with open breaker: routed \(routedTimes.min()!) vs direct \(directTimes.min()!), overhead \(overhead)")
        #expect(overhead < .milliseconds(100))
        #expect(primary.requests.count == before)
    }

    /// A stream reset mid-body after text and a completed tool call is resumed: one stream,
    /// text = partial + continuation, one seam, the tool call once; exactly two requests,
    /// the second carrying the partial output.
    @Test func midStreamResetIsResumed() async throws {
        let first = sse(["The weather ", "in Paris"], calls: [("call_1", "get_weather", #"{"city":"Paris"}"#)], done: false)
        let count = Mutex(0)
        let server = try await WireTestServer.start { _ in
            let n = count.withLock { c in defer { c += 1 }; return c }
            if n == 0 {
                // Everything up to finish_reason (the call completes), then RST before [DONE].
                // The pause lets the client read the first frame before the RST arrives (an RST
                // may discard data the client has not read yet).
                return WireTestServer.Reply(
                    status: 200, headers: [("content-type", "text/event-stream")], body: first + Array("data: {\"id\":".utf8),
                    chunking: .sizes([first.count]), chunkDelay: .milliseconds(300), resetAfter: first.count + 3
                )
            }
            return .sse(sse([" is sunny."], calls: [("call_1", "get_weather", #"{"city":"Paris"}"#)]))
        }
        defer { server.shutdown() }
        let model = RetryingModel(openAI(server), policy: RetryPolicy(maxAttempts: 3), clock: VirtualClock().clock)
        let (events, error) = await drain(model.stream(question))
        #expect(error == nil, "\(String(describing: error))")
        var acc = ModelStreamAccumulator()
        for e in events { acc.add(e) }
        #expect(acc.text == "The weather in Paris is sunny.")
        #expect(acc.toolCalls.map(\.id) == ["call_1"])
        #expect(events.filter { if case .toolCallComplete = $0 { true } else { false } }.count == 1)
        #expect(acc.seams.count == 1)
        #expect(acc.seams.first?.keptToolCallIDs == ["call_1"])
        #expect(server.requests.count == 2)
        let resume = try #require(server.requests.last?.bodyText)
        #expect(resume.contains("The weather in Paris"))
        #expect(resume.contains("call_1"))
    }

    /// No request is sent twice after a response byte was delivered: a stream that breaks
    /// after output, with retries exhausted on a non-retryable continuation failure, makes
    /// exactly one resume request and never repeats the original.
    @Test func noRequestRepeatedAfterOutput() async throws {
        let full = sse(["partial answer"], done: false)
        let firstEvent = Array(full.prefix(through: try #require(full.firstIndex(of: UInt8(ascii: "\n"))) + 1))
        let server = try await WireTestServer.start { request in
            if request.bodyText.contains("cut off") {
                return .json(#"{"error":{"message":"bad","type":"invalid_request_error"}}"#, status: 400)
            }
            // The first event, a pause (so the client reads it), a few more bytes, then RST.
            return WireTestServer.Reply(
                status: 200, headers: [("content-type", "text/event-stream")], body: full,
                chunking: .sizes([firstEvent.count]), chunkDelay: .milliseconds(300), resetAfter: firstEvent.count + 5
            )
        }
        defer { server.shutdown() }
        let model = RetryingModel(openAI(server), policy: RetryPolicy(maxAttempts: 5), clock: VirtualClock().clock)
        let (events, error) = await drain(model.stream(question))
        #expect(error != nil)
        #expect(events == [.textDelta("partial answer")])
        let originals = server.requests.filter { !$0.bodyText.contains("cut off") }
        #expect(originals.count == 1)
        #expect(server.requests.count == 2)
    }

    /// A dead route is taken out of rotation by the health check and put back when it recovers.
    @Test func healthCheckTakesADeadRouteOutAndBack() async throws {
        let alive = Mutex(true)
        let a = try await WireTestServer.start { _ in completion("a") }
        let b = try await WireTestServer.start { _ in completion("b") }
        defer { a.shutdown(); b.shutdown() }
        let modelA = openAI(a)
        let health = HealthChecker(checks: [
            "a": {
                guard alive.withLock({ $0 }) else { throw HarnessError(.unavailable, "a is down") }
                _ = try await modelA.complete(question)
            },
            "b": {},
        ])
        let router = Router(
            name: "m", routes: [Route(name: "a", model: modelA), Route(name: "b", model: openAI(b))],
            configuration: .init(strategy: .roundRobin), health: health
        )
        var served: [String] = []
        for _ in 0..<4 { served.append(try await router.complete(question).message.text) }
        #expect(served == ["a", "b", "a", "b"])
        alive.withLock { $0 = false }
        await health.checkAll()
        #expect(!health.isHealthy("a"))
        #expect(health.isReady)
        let requestsToA = a.requests.count
        served = []
        for _ in 0..<4 { served.append(try await router.complete(question).message.text) }
        #expect(served == ["b", "b", "b", "b"])
        #expect(a.requests.count == requestsToA)
        alive.withLock { $0 = true }
        await health.checkAll()
        served = []
        for _ in 0..<4 { served.append(try await router.complete(question).message.text) }
        #expect(served.contains("a"))
    }

    /// Hedging: the primary hangs; after the hedge delay the secondary starts and wins; the
    /// primary's request is cancelled (its connection closed).
    @Test func hedgingCancelsTheLoser() async throws {
        let primary = try await WireTestServer.start { _ in
            WireTestServer.Reply(status: 200, headers: [("content-type", "text/event-stream")], body: sse(["slow"]), headDelay: .seconds(30))
        }
        let secondary = try await WireTestServer.start { _ in .sse(sse(["fast answer"])) }
        defer { primary.shutdown(); secondary.shutdown() }
        let router = Router(
            name: "m", routes: [Route(name: "primary", model: openAI(primary)), Route(name: "secondary", model: openAI(secondary))],
            configuration: .init(hedgeDelay: .milliseconds(50))
        )
        let collector = CallReportCollector()
        let start = ContinuousClock.now
        let (events, error) = await CallReportCollector.$current.withValue(collector) { await drain(router.stream(question)) }
        let elapsed = ContinuousClock.now - start
        #expect(error == nil)
        var acc = ModelStreamAccumulator()
        for e in events { acc.add(e) }
        #expect(acc.text == "fast answer")
        #expect(elapsed < .seconds(20))
        let report = try #require(collector.reports.first)
        #expect(report.servedBy == "secondary")
        #expect(report.hedged)
        #expect(report.attempts.contains { $0.route == "primary" && $0.outcome == .cancelledHedgeLoser })
        // The loser's connection is closed by the cancellation.
        var closed = false
        for _ in 0..<200 where !closed {
            closed = primary.closedConnectionCount >= 1
            if !closed { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(closed)
    }
}
