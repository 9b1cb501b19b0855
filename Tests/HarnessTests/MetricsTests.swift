//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessCore
import HarnessTesting
import MetricsTestKit
import Testing
import Tracing

@Suite struct MetricsTests {
    /// One run with two tool calls, played twice against a response cache: requests, tools,
    /// tokens, cost, cache hits and misses are counted with their labels.
    @Test func runMetrics() async throws {
        let metrics = TestMetrics()
        // $1 per token, so that the cost shows in whole dollars in TestMetrics.
        let pricing = PricingTable(prices: ["gpt-test": ModelPrice(input: 1_000_000, output: 1_000_000)], source: "test")
        let orchestrator = Orchestrator(
            configuration: .init(
                responseCache: ResponseCache(storage: InMemoryCache()),
                observability: Observability(tracer: NoOpTracer(), metricsFactory: metrics, pricing: pricing)
            )
        )
        let (agent, model) = TracingTests.twoToolAgent()
        _ = try await orchestrator.run(agent, input: "hi")
        model.reset()
        _ = try await orchestrator.run(agent, input: "hi")  // both model answers from the cache

        #expect(metrics.counterTotal(label: "harness_requests_total", dimensions: [("status", "completed")]) == 2)
        #expect(try metrics.expectTimer("harness_request_duration_seconds").values.count == 2)
        #expect(metrics.counterTotal(label: "harness_tool_calls_total", dimensions: [("tool_name", "echo"), ("status", "success")]) == 2)
        #expect(metrics.counterTotal(label: "harness_tool_calls_total", dimensions: [("tool_name", "lookup"), ("status", "success")]) == 2)
        #expect(try metrics.expectTimer("harness_tool_duration_seconds", [("tool_name", "echo")]).values.count == 2)
        #expect(metrics.counterTotal(label: "harness_cache_misses_total") == 2)
        #expect(metrics.counterTotal(label: "harness_cache_hits_total") == 2)
        // Provider calls: only the first run's two (the second was served by the cache).
        #expect(metrics.counterTotal(label: "harness_provider_calls_total", dimensions: [("provider", "scripted"), ("status", "success")]) == 2)
        #expect(metrics.counterTotal(label: "harness_provider_tokens_total", dimensions: [("provider", "scripted"), ("type", "input")]) == 31)
        #expect(metrics.counterTotal(label: "harness_provider_tokens_total", dimensions: [("provider", "scripted"), ("type", "output")]) == 10)
        #expect(metrics.counterTotal(label: "harness_provider_tokens_total", dimensions: [("provider", "scripted"), ("type", "reasoning")]) == 0)
        // 41 tokens at $1 each.
        #expect(metrics.counterTotal(label: "harness_cost_usd_total") == 41)
    }

    /// Calls a run stops before they run are counted as not executed; a limit's stop reason
    /// is the request status.
    @Test func notExecutedCallsAndLimitStatus() async throws {
        let metrics = TestMetrics()
        let orchestrator = Orchestrator(configuration: .init(observability: Observability(tracer: NoOpTracer(), metricsFactory: metrics)))
        let model = ScriptedModel([.toolCalls([call("c1", "echo"), call("c2", "echo")])])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()], policy: RunPolicy(maxToolCalls: 1))
        let result = try await orchestrator.run(agent, input: "hi")
        #expect(result.stopReason == .maxToolCalls)
        #expect(metrics.counterTotal(label: "harness_tool_calls_total", dimensions: [("tool_name", "echo"), ("status", "not_executed")]) == 2)
        #expect(metrics.counterTotal(label: "harness_requests_total", dimensions: [("status", "max_tool_calls")]) == 1)
    }

    /// The rate limiter counts refusals and waits, not admissions.
    @Test func rateLimitHits() async throws {
        let metrics = TestMetrics()
        let refusing = TokenBucketRateLimiter(
            .init(capacity: 1, refillPerSecond: 0.001, mode: .refuse), metrics: HarnessMetrics(factory: metrics)
        )
        try await refusing.acquire(key: "k", cost: 1)
        #expect(metrics.counterTotal(label: "harness_rate_limit_hits_total") == 0)
        await #expect(throws: HarnessError.self) { try await refusing.acquire(key: "k", cost: 1) }
        #expect(!refusing.tryAcquire(key: "k", cost: 1))
        #expect(metrics.counterTotal(label: "harness_rate_limit_hits_total") == 2)

        // A wait counts when it starts (the refill is so slow that the waiter is cancelled).
        let waiting = TokenBucketRateLimiter(
            .init(capacity: 1, refillPerSecond: 0.001, mode: .wait(maxWait: nil)), metrics: HarnessMetrics(factory: metrics)
        )
        try await waiting.acquire(key: "k", cost: 1)
        let waiter = Task { try await waiting.acquire(key: "k", cost: 1) }
        let deadline = ContinuousClock.now + .seconds(30)
        while metrics.counterTotal(label: "harness_rate_limit_hits_total") < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        waiter.cancel()
        #expect(metrics.counterTotal(label: "harness_rate_limit_hits_total") == 3)
    }

    /// The breaker metrics API (called by the circuit breaker).
    @Test func breakerMetrics() throws {
        let metrics = TestMetrics()
        let harness = HarnessMetrics(factory: metrics)
        harness.recordBreakerState(provider: "openai", state: .open)
        harness.recordBreakerTrip(provider: "openai")
        #expect(try metrics.expectGauge("circuit_breaker_state", [("provider", "openai")]).lastValue == 2)
        harness.recordBreakerState(provider: "openai", state: .halfOpen)
        #expect(try metrics.expectGauge("circuit_breaker_state", [("provider", "openai")]).lastValue == 1)
        harness.recordBreakerState(provider: "openai", state: .closed)
        #expect(try metrics.expectGauge("circuit_breaker_state", [("provider", "openai")]).lastValue == 0)
        #expect(metrics.counterTotal(label: "circuit_breaker_trips_total", dimensions: [("provider", "openai")]) == 1)
    }

    /// Error classes are fixed codes.
    @Test func errorTypes() {
        #expect(ErrorType.of(HarnessError(.modelError, "x")) == "model_error")
        #expect(ErrorType.of(CancellationError()) == "cancelled")
        #expect(ErrorType.of(QuotaError()) == "rate_limited")
        #expect(StopReason.maxTotalTokens.metricLabel == "max_total_tokens")
        #expect(ToolOutcome.timedOut.metricLabel == "timed_out")
    }
}
