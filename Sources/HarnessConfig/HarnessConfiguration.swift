//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Harness

/// The settings of `harness.yaml`, as plain values with their defaults.
///
/// ```yaml
/// storage: sqlite:.harness/harness.sqlite   # or postgres://user@host:5432/db
/// cache:
///   enabled: true
///   capacity: 1000
///   ttl: 5m
/// rate_limit:
///   enabled: true
///   capacity: 60
///   refill_per_second: 1
///   mode: wait          # or: refuse
///   max_wait: 30s
/// policy:
///   max_iterations: 10
///   max_tool_depth: 3
///   max_tool_calls: 64
///   max_total_tokens: 200000
///   max_output_size: 65536      # bytes of model text per turn
///   max_tool_output_size: 65536 # bytes of one tool result
///   tool_timeout: 60s
///   tool_concurrency: 8
///   eager_tools: true
///   loop_threshold: 3
/// guardrails:
///   blocked_words: [password]
///   blocked_patterns: ['sk-[A-Za-z0-9]{20,}']
///   allowed_tools: [get_weather]
/// tracing:
///   enabled: false
///   sample_rate: 1.0
///   otlp_endpoint: http://otel-collector:4318   # harness serve exports spans there
///   service_name: harness
///   export_metrics: false
/// retry:
///   max_attempts: 3
///   base_delay: 250ms
///   factor: 2
///   max_delay: 20s
///   deadline: 2m               # or none
///   attempt_timeout: none      # per attempt: whole call, or first event / idle for streams
/// circuit_breaker:
///   enabled: true
///   failure_threshold: 5       # consecutive failures
///   failure_rate: 0.5          # or none
///   window: 60s
///   minimum_requests: 20
///   open_timeout: 30s
///   half_open_probes: 1
///   success_threshold: 2
/// routing:
///   strategy: fallback         # round_robin, weighted, least_latency, cost_optimized
///   hedge_delay: none          # e.g. 2s
///   health_check_interval: 10s
/// pricing:                      # USD per million tokens; replaces or adds to the defaults
///   gpt-4o: {input: 2.5, output: 10, cache_read: 1.25}
///   my-finetune: {input: 3, output: 12, cache_write: 3.75, reasoning: 12}
/// ```
public struct HarnessConfiguration: Sendable, Hashable {
    public struct CacheSettings: Sendable, Hashable {
        public var enabled = true
        public var capacity = 1000
        public var ttl: Duration? = .seconds(300)
        public init() {}
    }

    public struct RateLimitSettings: Sendable, Hashable {
        public var enabled = false
        public var capacity: Double = 60
        public var refillPerSecond: Double = 1
        public var refuse = false
        public var maxWait: Duration? = .seconds(30)
        public init() {}
    }

    public struct GuardrailSettings: Sendable, Hashable {
        public var blockedWords: [String] = []
        public var blockedPatterns: [String] = []
        /// `nil` allows every tool.
        public var allowedTools: [String]? = nil
        public init() {}
    }

    public struct TracingSettings: Sendable, Hashable {
        public var enabled = false
        public var sampleRate: Double = 1
        /// An OTLP/HTTP collector (`http://collector:4318`); `harness serve` exports spans there
        /// when tracing is enabled.
        public var otlpEndpoint: String? = nil
        /// The `service.name` of exported telemetry.
        public var serviceName = "harness"
        /// Also export metrics over OTLP (they are on `/metrics` either way).
        public var exportMetrics = false
        public init() {}
    }

    /// How model routes are chosen, hedged and health-checked.
    public struct RoutingSettings: Sendable, Hashable {
        public var strategy: RoutingStrategy = .fallback
        public var hedgeDelay: Duration? = nil
        public var healthCheckInterval: Duration = .seconds(10)
        public init() {}
    }

    /// Where stores live: `sqlite:PATH` (the default, `sqlite:.harness/harness.sqlite`) or a
    /// `postgres://` URL. `HARNESS_DATABASE_URL` overrides it.
    public var storage = "sqlite:.harness/harness.sqlite"
    public var cache = CacheSettings()
    public var rateLimit = RateLimitSettings()
    public var policy = RunPolicy()
    /// Bytes of model text accepted per turn; `nil` for no limit.
    public var maxOutputSize: Int? = nil
    public var guardrails = GuardrailSettings()
    public var tracing = TracingSettings()
    /// Retries of failed model calls.
    public var retry = RetryPolicy()
    /// Circuit breakers per route; `nil` when `circuit_breaker.enabled` is false.
    public var circuitBreaker: CircuitBreaker.Configuration? = CircuitBreaker.Configuration()
    public var routing = RoutingSettings()
    /// Prices that replace or add to ``PricingTable/defaults``, by model name.
    public var pricing: [String: ModelPrice] = [:]

    /// The gateway server (`server:`).
    public var server = GatewaySettings()
    /// The models the gateway offers, by name (`models:`). Empty: one model, `scripted`.
    public var models: [ModelSettings] = []
    /// The agents the gateway runs (`agents:`).
    public var agents: [AgentSettings] = []

    /// The shipped prices with `pricing` applied.
    public var pricingTable: PricingTable { PricingTable.defaults.merging(pricing) }

    public init() {}
}
