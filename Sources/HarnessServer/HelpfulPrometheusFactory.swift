//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import Harness
import HarnessConfig
public import CoreMetrics
public import Prometheus
import Synchronization

/// A swift-metrics factory over a Prometheus registry that gives every metric its help text,
/// so that `/metrics` passes `promtool check metrics`. The serve command bootstraps the
/// process's `MetricsSystem` with it, so the library's metrics land in the same registry.
public struct HelpfulPrometheusFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]
    let valueBuckets: [Double] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 100_000]

    /// Handles already made, by name and labels: metrics are looked up on every request, and
    /// the registry's own lookup also validates the help text each time.
    private let handles: HandleCache

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.handles = HandleCache()
    }

    private final class HandleCache: Sendable {
        struct Key: Hashable {
            var kind: UInt8
            var label: String
            var dimensions: [String]
        }

        let table = Mutex<[Key: any Sendable]>([:])

        func handle<H: Sendable>(_ kind: UInt8, _ label: String, _ dimensions: [(String, String)], make: () -> H) -> H {
            var flat: [String] = []
            flat.reserveCapacity(dimensions.count * 2)
            for (name, value) in dimensions {
                flat.append(name)
                flat.append(value)
            }
            let key = Key(kind: kind, label: label, dimensions: flat)
            if let known = table.withLock({ $0[key] }) as? H { return known }
            let made = make()
            table.withLock { table in
                if table.count > 10_000 { table.removeAll() }  // bounded, whatever the labels
                table[key] = made
            }
            return made
        }

        func forget(where matches: (Any) -> Bool) {
            table.withLock { table in table = table.filter { !matches($0.value) } }
        }
    }

    static func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricHelp.text(for: label))
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        handles.handle(0, label, dimensions) { registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions) }
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if aggregate {
            return registry.makeValueHistogram(descriptor: Self.descriptor(label), labels: dimensions, buckets: valueBuckets)
        }
        return registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        handles.handle(1, label, dimensions) {
            registry.makeDurationHistogram(descriptor: Self.descriptor(label), labels: dimensions, buckets: durationBuckets)
        }
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter {
            handles.forget { ($0 as? Prometheus.Counter) === c }
            registry.unregisterCounter(c)
        }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
        if let h = handler as? Histogram<Double> { registry.unregisterValueHistogram(h) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? Histogram<Duration> {
            handles.forget { ($0 as? Histogram<Duration>) === h }
            registry.unregisterDurationHistogram(h)
        }
    }
}

/// What each metric means (the `# HELP` lines, and the README's table).
public enum MetricHelp {
    public static let texts: [String: String] = [
        "harness_http_requests_total": "HTTP requests answered by the gateway, by endpoint and status code.",
        "harness_http_request_duration_seconds": "Time from request to the end of the response (streams included), by endpoint.",
        "harness_http_streams_in_flight": "Streaming responses being written now.",
        "harness_gateway_errors_total": "Error responses by error code.",
        "harness_requests_total": "Agent runs and model requests, by outcome.",
        "harness_request_duration_seconds": "Duration of agent runs and model requests.",
        "harness_tool_calls_total": "Tool calls by tool and outcome.",
        "harness_tool_duration_seconds": "Duration of tool calls.",
        "harness_cache_hits_total": "Response cache hits.",
        "harness_cache_misses_total": "Response cache misses.",
        "harness_rate_limit_hits_total": "Requests refused or delayed by a rate limit (key or client-side limiter).",
        "harness_provider_calls_total": "Calls to upstream providers, by provider and outcome.",
        "harness_provider_tokens_total": "Tokens reported by upstream providers, by provider and kind (input, output, cache_read, cache_write, reasoning).",
        "harness_provider_errors_total": "Failed upstream calls, by provider and error code.",
        "harness_cost_usd_total": "Cost of served requests in US dollars, from the pricing table.",
        "circuit_breaker_state": "Circuit state per route: 0 closed, 1 half-open, 2 open.",
        "circuit_breaker_trips_total": "Times a circuit opened, per route.",
        "harness_budget_rejections_total": "Requests refused because a virtual key's budget is spent.",
        "harness_relay_requests_total": "Chat requests the relay took on the event loop: served, or handed to the full path after the upstream did not answer with a good 200.",
    ]

    /// The help text of `name` (a generic one for metrics not in the table).
    public static func text(for name: String) -> String {
        texts[name] ?? "Harness metric \(name)."
    }
}
