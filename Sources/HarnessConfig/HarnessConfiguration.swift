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
