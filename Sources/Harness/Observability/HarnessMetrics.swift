//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import CoreMetrics
public import HarnessCore

/// The metrics Harness emits, by name, through swift-metrics.
///
/// Every label value comes from a bounded set: statuses and error types are fixed codes,
/// `provider` is the provider's configured name, `tool_name` a tool the agent declares
/// (a name the model made up is reported as `unknown`). Nothing from a prompt, a user or
/// a key ever becomes a label.
///
/// | name | kind | labels |
/// |---|---|---|
/// | `harness_requests_total` | counter | `status`: the run's stop reason (`completed`, `max_iterations`, …, `failed`, `cancelled`) |
/// | `harness_request_duration_seconds` | timer (histogram) | — |
/// | `harness_tool_calls_total` | counter | `tool_name`, `status`: the outcome (`success`, `tool_error`, `failed`, `timed_out`, …) |
/// | `harness_tool_duration_seconds` | timer (histogram) | `tool_name` |
/// | `harness_cache_hits_total`, `harness_cache_misses_total` | counter | — |
/// | `harness_rate_limit_hits_total` | counter | — (admissions that had to wait or were refused) |
/// | `harness_provider_calls_total` | counter | `provider`, `status` (`success`, `error`) |
/// | `harness_provider_tokens_total` | counter | `provider`, `type` (`input`, `output`, `cache_read`, `cache_write`, `reasoning`) |
/// | `harness_provider_errors_total` | counter | `provider`, `error_type` (see ``ErrorType``) |
/// | `circuit_breaker_state` | gauge | `provider`; 0 closed, 1 half-open, 2 open |
/// | `circuit_breaker_trips_total` | counter | `provider` |
/// | `harness_cost_usd_total` | floating-point counter | — (USD, from ``Observability/pricing``) |
///
/// `harness_cost_usd_total` is a swift-metrics `FloatingPointCounter`: backends without native
/// floating-point counters (swift-metrics' default) accumulate it and report whole dollars.
public struct HarnessMetrics: Sendable {
    /// The metric names.
    public enum Name {
        public static let requestsTotal = "harness_requests_total"
        public static let requestDuration = "harness_request_duration_seconds"
        public static let toolCallsTotal = "harness_tool_calls_total"
        public static let toolDuration = "harness_tool_duration_seconds"
        public static let cacheHitsTotal = "harness_cache_hits_total"
        public static let cacheMissesTotal = "harness_cache_misses_total"
        public static let rateLimitHitsTotal = "harness_rate_limit_hits_total"
        public static let providerCallsTotal = "harness_provider_calls_total"
        public static let providerTokensTotal = "harness_provider_tokens_total"
        public static let providerErrorsTotal = "harness_provider_errors_total"
        public static let circuitBreakerState = "circuit_breaker_state"
        public static let circuitBreakerTripsTotal = "circuit_breaker_trips_total"
        public static let costUSDTotal = "harness_cost_usd_total"
    }

    /// A circuit breaker's state, as `circuit_breaker_state` reports it.
    public enum BreakerState: Int, Sendable, Hashable {
        case closed = 0
        case halfOpen = 1
        case open = 2
    }

    private let _factory: (any MetricsFactory)?

    /// Emits to `factory`; `nil` for the process-wide `MetricsSystem.factory`, read when used.
    public init(factory: (any MetricsFactory)? = nil) {
        self._factory = factory
    }

    /// The factory metrics are made by.
    public var factory: any MetricsFactory { _factory ?? MetricsSystem.factory }

    // MARK: - Runs

    /// A run ended with `status` (``StopReason/metricLabel``) after `duration`.
    public func recordRequest(status: String, duration: Duration) {
        let factory = self.factory
        factory.makeCounter(label: Name.requestsTotal, dimensions: [("status", status)]).increment(by: 1)
        factory.makeTimer(label: Name.requestDuration, dimensions: []).recordNanoseconds(duration.nanoseconds)
    }

    // MARK: - Tools

    /// A tool call ended with `status` (``ToolOutcome/metricLabel``); `duration` is how long the
    /// tool ran, `nil` for a call that never ran.
    public func recordToolCall(toolName: String, status: String, duration: Duration?) {
        let factory = self.factory
        factory.makeCounter(label: Name.toolCallsTotal, dimensions: [("tool_name", toolName), ("status", status)])
            .increment(by: 1)
        if let duration {
            factory.makeTimer(label: Name.toolDuration, dimensions: [("tool_name", toolName)])
                .recordNanoseconds(duration.nanoseconds)
        }
    }

    // MARK: - Cache and rate limits

    /// A response-cache lookup hit or missed.
    public func recordCacheLookup(hit: Bool) {
        factory.makeCounter(label: hit ? Name.cacheHitsTotal : Name.cacheMissesTotal, dimensions: []).increment(by: 1)
    }

    /// A rate limiter made work wait or refused it.
    public func recordRateLimitHit() {
        factory.makeCounter(label: Name.rateLimitHitsTotal, dimensions: []).increment(by: 1)
    }

    // MARK: - Providers

    /// A call to `provider` succeeded (with `usage`) or failed.
    public func recordProviderCall(provider: String, usage: Usage) {
        let factory = self.factory
        factory.makeCounter(label: Name.providerCallsTotal, dimensions: [("provider", provider), ("status", "success")])
            .increment(by: 1)
        let kinds: [(String, Int)] = [
            ("input", usage.inputTokens), ("output", usage.outputTokens), ("cache_read", usage.cacheReadTokens),
            ("cache_write", usage.cacheWriteTokens), ("reasoning", usage.reasoningTokens),
        ]
        for (type, count) in kinds where count > 0 {
            factory.makeCounter(label: Name.providerTokensTotal, dimensions: [("provider", provider), ("type", type)])
                .increment(by: Int64(count))
        }
    }

    /// A call to `provider` failed with `errorType` (``ErrorType/of(_:)``).
    public func recordProviderError(provider: String, errorType: String) {
        let factory = self.factory
        factory.makeCounter(label: Name.providerCallsTotal, dimensions: [("provider", provider), ("status", "error")])
            .increment(by: 1)
        factory.makeCounter(label: Name.providerErrorsTotal, dimensions: [("provider", provider), ("error_type", errorType)])
            .increment(by: 1)
    }

    // MARK: - Circuit breakers

    /// The breaker of `provider` is now in `state` (sets `circuit_breaker_state`).
    public func recordBreakerState(provider: String, state: BreakerState) {
        factory.makeRecorder(label: Name.circuitBreakerState, dimensions: [("provider", provider)], aggregate: false)
            .record(Int64(state.rawValue))
    }

    /// The breaker of `provider` opened (counts `circuit_breaker_trips_total`).
    public func recordBreakerTrip(provider: String) {
        factory.makeCounter(label: Name.circuitBreakerTripsTotal, dimensions: [("provider", provider)]).increment(by: 1)
    }

    // MARK: - Cost

    /// Adds `usd` to `harness_cost_usd_total`.
    public func recordCost(usd: Double) {
        guard usd > 0, usd.isFinite else { return }
        factory.makeFloatingPointCounter(label: Name.costUSDTotal, dimensions: []).increment(by: usd)
    }
}

extension StopReason {
    /// The `status` label of `harness_requests_total`: the reason in snake case.
    public var metricLabel: String {
        switch self {
        case .completed: "completed"
        case .maxIterations: "max_iterations"
        case .maxToolDepth: "max_tool_depth"
        case .maxToolCalls: "max_tool_calls"
        case .maxTotalTokens: "max_total_tokens"
        case .maxOutputSize: "max_output_size"
        case .loopDetected: "loop_detected"
        case .guardrail: "guardrail"
        case .cancelled: "cancelled"
        case .failed: "failed"
        }
    }
}

extension ToolOutcome {
    /// The `status` label of `harness_tool_calls_total`: the outcome in snake case.
    public var metricLabel: String {
        switch self {
        case .success: "success"
        case .toolError: "tool_error"
        case .failed: "failed"
        case .timedOut: "timed_out"
        case .unknownTool: "unknown_tool"
        case .invalidArguments: "invalid_arguments"
        case .notAllowed: "not_allowed"
        case .cancelled: "cancelled"
        case .notExecuted: "not_executed"
        }
    }
}
