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

    func providerCall(provider: String, usage: Usage?, cost: Double?) {
        library.recordProviderCall(provider: provider, usage: usage ?? .zero)
        if let cost, cost > 0 { library.recordCost(usd: cost) }
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
    func relay(_ outcome: String) { counter("harness_relay_requests_total", [("outcome", outcome)]).increment() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s &* 1_000_000_000 &+ a / 1_000_000_000
    }
}
