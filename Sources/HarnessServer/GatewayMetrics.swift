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
    let streamsInFlight: Meter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.streamsInFlight = Meter(label: "harness_http_streams_in_flight", dimensions: [], factory: factory)
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
        counter("harness_http_requests_total", [("endpoint", endpoint), ("status", String(status))]).increment()
        timer("harness_http_request_duration_seconds", [("endpoint", endpoint)]).recordNanoseconds(duration.nanoseconds)
    }

    func error(code: String) {
        counter("harness_gateway_errors_total", [("code", code)]).increment()
    }

    func providerCall(provider: String, status: String, usage: Usage?, cost: Double?) {
        counter("harness_provider_calls_total", [("provider", provider), ("status", status)]).increment()
        if let usage {
            for (type, n) in [("input", usage.inputTokens), ("output", usage.outputTokens), ("cache_read", usage.cacheReadTokens),
                              ("cache_write", usage.cacheWriteTokens), ("reasoning", usage.reasoningTokens)] where n > 0 {
                counter("harness_provider_tokens_total", [("provider", provider), ("type", type)]).increment(by: Int64(n))
            }
        }
        if let cost, cost > 0 { floatCounter("harness_cost_usd_total").increment(by: cost) }
    }

    func providerError(provider: String, code: String) {
        counter("harness_provider_errors_total", [("provider", provider), ("error_type", code)]).increment()
    }

    private let gauges = Mutex<[String: Meter]>([:])

    /// `circuit_breaker_state{provider}` (0 closed, 1 open, 2 half-open, as
    /// ``CircuitBreaker/State/gaugeValue``) and `circuit_breaker_trips_total{provider}`; the
    /// label is the route's name, which the configuration bounds.
    func breaker(_ transition: CircuitBreaker.Transition) {
        let meter = gauges.withLock { table in
            if let m = table[transition.route] { return m }
            let m = Meter(label: "circuit_breaker_state", dimensions: [("provider", transition.route)], factory: factory)
            table[transition.route] = m
            return m
        }
        meter.set(Double(transition.to.gaugeValue))
        if transition.isTrip { counter("circuit_breaker_trips_total", [("provider", transition.route)]).increment() }
    }

    func rateLimitHit() { counter("harness_rate_limit_hits_total").increment() }

    func budgetRejection() { counter("harness_budget_rejections_total").increment() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s &* 1_000_000_000 &+ a / 1_000_000_000
    }
}
