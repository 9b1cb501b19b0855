//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import HarnessConfig
public import CoreMetrics
import HarnessCore
import Harness
import Synchronization

/// The gateway's metrics, through swift-metrics with an explicit factory. Handles are made
/// once per label set and kept, so a request costs a dictionary lookup, not a registration.
public final class GatewayMetrics: Sendable {
    let factory: any MetricsFactory
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let floatCounters = Mutex<[String: FloatingPointCounter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])
    /// The handles every request touches, by what varies: a request costs one lookup of a
    /// small key for each, no string built.
    private let requestMeters = Mutex<[RequestKey: RequestMeters]>([:])
    private let providerMeters = Mutex<[String: ProviderMeters]>([:])
    private let relayCounters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let cost: FloatingPointCounter
    let streamsInFlight: Meter

    private struct RequestKey: Hashable {
        var endpoint: String
        var status: Int
    }

    private struct RequestMeters {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    /// What ``HarnessMetrics/recordProviderCall(provider:usage:)`` counts, for one provider.
    private struct ProviderMeters {
        let calls: CoreMetrics.Counter
        /// Input, output, cache read, cache write, reasoning.
        let tokens: [CoreMetrics.Counter]
    }

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.streamsInFlight = Meter(label: "harness_http_streams_in_flight", dimensions: [], factory: factory)
        self.cost = FloatingPointCounter(label: HarnessMetrics.Name.costUSDTotal, dimensions: [], factory: factory)
        streamsInFlight.set(0)
    }

    private func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        var k = label
        for (n, v) in dimensions {
            k += "|"
            k += n
            k += "="
            k += v
        }
        return k
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        let k = key(label, dimensions)
        return counters.withLock { cache in
            if let c = cache[k] { return c }
            let c = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
            cache[k] = c
            return c
        }
    }

    func floatCounter(_ label: String, _ dimensions: [(String, String)] = []) -> FloatingPointCounter {
        let k = key(label, dimensions)
        return floatCounters.withLock { cache in
            if let c = cache[k] { return c }
            let c = FloatingPointCounter(label: label, dimensions: dimensions, factory: factory)
            cache[k] = c
            return c
        }
    }

    func timer(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Timer {
        let k = key(label, dimensions)
        return timers.withLock { cache in
            if let t = cache[k] { return t }
            let t = CoreMetrics.Timer(label: label, dimensions: dimensions, factory: factory)
            cache[k] = t
            return t
        }
    }

    func request(endpoint: String, status: Int, duration: Duration) {
        let key = RequestKey(endpoint: endpoint, status: status)
        let meters = requestMeters.withLock { cache in
            if let m = cache[key] { return m }
            let m = RequestMeters(
                count: counter("harness_http_requests_total", [("endpoint", endpoint), ("status", String(status))]),
                duration: timer("harness_http_request_duration_seconds", [("endpoint", endpoint)])
            )
            cache[key] = m
            return m
        }
        meters.count.increment()
        meters.duration.recordNanoseconds(duration.nanoseconds)
    }

    func error(code: String) {
        counter("harness_gateway_errors_total", [("code", code)]).increment()
    }

    /// Counts a served provider call as ``HarnessMetrics`` does (the same series), with
    /// handles made once per provider.
    func providerCall(provider: String, usage: Usage?, cost: Double?) {
        let meters = providerMeters.withLock { cache in
            if let m = cache[provider] { return m }
            let m = ProviderMeters(
                calls: CoreMetrics.Counter(
                    label: HarnessMetrics.Name.providerCallsTotal, dimensions: [("provider", provider), ("status", "success")], factory: factory
                ),
                tokens: ["input", "output", "cache_read", "cache_write", "reasoning"].map { type in
                    CoreMetrics.Counter(label: HarnessMetrics.Name.providerTokensTotal, dimensions: [("provider", provider), ("type", type)], factory: factory)
                }
            )
            cache[provider] = m
            return m
        }
        meters.calls.increment()
        if let usage {
            for (i, count) in [usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens, usage.reasoningTokens].enumerated()
            where count > 0 {
                meters.tokens[i].increment(by: Int64(count))
            }
        }
        if let cost, cost > 0, cost.isFinite { self.cost.increment(by: cost) }
    }

    func providerError(provider: String, code: String) {
        library.recordProviderError(provider: provider, errorType: code)
    }

    /// The library's metrics (provider calls, tokens, errors, cost, breakers, rate limits),
    /// under the same names and label values as the orchestrator emits them.
    var library: HarnessMetrics { HarnessMetrics(factory: factory) }

    /// `circuit_breaker_state{provider}` and `circuit_breaker_trips_total{provider}`; the
    /// label is the route's name, which the configuration bounds.
    func breaker(_ transition: CircuitBreaker.Transition) {
        library.recordBreakerState(provider: transition.route, state: transition.to.metricsState)
        if transition.isTrip { library.recordBreakerTrip(provider: transition.route) }
    }

    func rateLimitHit() { library.recordRateLimitHit() }

    func budgetRejection() { counter("harness_budget_rejections_total").increment() }
    func relay(_ outcome: String) {
        let handle = relayCounters.withLock { cache in
            if let c = cache[outcome] { return c }
            let c = counter("harness_relay_requests_total", [("outcome", outcome)])
            cache[outcome] = c
            return c
        }
        handle.increment()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s &* 1_000_000_000 &+ a / 1_000_000_000
    }
}
