//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import CoreMetrics
public import Instrumentation
public import Tracing

/// Where Harness sends spans and metrics: a tracer, a metrics factory, and the prices that
/// turn usage into `harness_cost_usd_total`.
///
/// The default (``global``) reads the process-wide systems (`InstrumentationSystem.tracer`,
/// `MetricsSystem.factory`) each time it emits, so an orchestrator made before
/// `InstrumentationSystem.bootstrap(_:)` / `MetricsSystem.bootstrap(_:)` still reports
/// to the backends bootstrapped later. Tests and embedders pass their own backends instead,
/// which keeps parallel tests apart:
///
/// ```swift
/// let tracer = InMemoryTracer()
/// let metrics = TestMetrics()
/// let orchestrator = Orchestrator(configuration: .init(
///     observability: Observability(tracer: tracer, metricsFactory: metrics)
/// ))
/// ```
public struct Observability: Sendable {
    private let _tracer: (any Tracer)?
    private let _instrument: (any Instrument)?

    /// The metrics Harness emits.
    public var metrics: HarnessMetrics
    /// Prices of models, for `harness_cost_usd_total`; `nil` records no cost.
    public var pricing: PricingTable?

    /// Reports to `tracer` (`nil`: the process-wide tracer) and `metrics`.
    public init(tracer: (any Tracer)? = nil, metrics: HarnessMetrics = HarnessMetrics(), pricing: PricingTable? = nil) {
        self._tracer = tracer
        self._instrument = tracer
        self.metrics = metrics
        self.pricing = pricing
    }

    /// Reports to `tracer` (`nil`: the process-wide tracer) and `metricsFactory` (`nil`: the
    /// process-wide factory).
    public init(tracer: (any Tracer)? = nil, metricsFactory: (any MetricsFactory)?, pricing: PricingTable? = nil) {
        self.init(tracer: tracer, metrics: HarnessMetrics(factory: metricsFactory), pricing: pricing)
    }

    /// The process-wide tracer and metrics factory, read when used.
    public static var global: Observability { Observability() }

    /// Emits nothing: a no-op tracer and metrics factory.
    public static var disabled: Observability {
        Observability(tracer: NoOpTracer(), metricsFactory: NOOPMetricsHandler.instance)
    }

    /// The tracer spans go to.
    public var tracer: any Tracer { _tracer ?? InstrumentationSystem.tracer }

    /// The instrument that injects and extracts trace context (the tracer's).
    public var instrument: any Instrument { _instrument ?? InstrumentationSystem.instrument }
}
