//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import CoreMetrics
public import Harness
import Instrumentation
import Logging
import OTel
public import ServiceLifecycle
public import Tracing

/// OTLP/HTTP export of Harness's spans and metrics, through swift-otel.
///
/// The server bootstraps the process-wide systems once and runs the returned service in its
/// `ServiceGroup` (it batches and sends spans, and flushes them on graceful shutdown):
///
/// ```swift
/// let telemetry = try HarnessOTel.bootstrap(OTLPExportConfiguration(endpoint: "http://collector:4318"))
/// let group = ServiceGroup(services: [telemetry, server], logger: logger)
/// try await group.run()
/// ```
///
/// Outgoing provider requests then carry W3C `traceparent` headers (the tracer's propagator),
/// and ``TraceContextPropagation/extract(from:into:instrument:)-(…)`` reads them from incoming ones.
/// Tests and embedders that must not touch the process-wide systems use ``makeBackends(_:)``
/// and pass ``Backends/observability`` to the orchestrator.
public enum HarnessOTel {
    /// A tracer and metrics factory exporting over OTLP, and the service that does the export.
    public struct Backends: Sendable {
        /// Spans go here; it also injects and extracts W3C trace context.
        public var tracer: any Tracer
        /// Metrics go here; `nil` unless ``OTLPExportConfiguration/exportsMetrics``.
        public var metricsFactory: (any MetricsFactory)?
        /// Runs the export: run it in a `ServiceGroup`; its graceful shutdown flushes.
        public var service: any Service

        /// An ``Observability`` reporting to these backends (metrics: the process-wide
        /// factory when this exports none).
        public var observability: Observability {
            Observability(tracer: tracer, metricsFactory: metricsFactory)
        }
    }

    /// Backends for `configuration`, not bootstrapped anywhere.
    public static func makeBackends(_ configuration: OTLPExportConfiguration) throws -> Backends {
        let otel = try otelConfiguration(configuration)
        let tracing = try OTel.makeTracingBackend(configuration: otel)
        var services: [any Service] = [tracing.service]
        var metricsFactory: (any MetricsFactory)? = nil
        if configuration.exportsMetrics {
            let metrics = try OTel.makeMetricsBackend(configuration: otel)
            metricsFactory = metrics.factory
            services.append(metrics.service)
        }
        let service: any Service = services.count == 1 ? services[0] : ServiceGroup(
            configuration: .init(
                services: services.map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                logger: .init(label: "harness.otel", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        )
        return Backends(tracer: tracing.factory, metricsFactory: metricsFactory, service: service)
    }

    /// Bootstraps `InstrumentationSystem` (and `MetricsSystem` when metrics are exported) with
    /// OTLP backends, once per process, and returns the export service to run.
    public static func bootstrap(_ configuration: OTLPExportConfiguration) throws -> any Service {
        let backends = try makeBackends(configuration)
        InstrumentationSystem.bootstrap(backends.tracer)
        if let factory = backends.metricsFactory { MetricsSystem.bootstrap(factory) }
        return backends.service
    }

    static func otelConfiguration(_ configuration: OTLPExportConfiguration) throws -> OTel.Configuration {
        guard configuration.sampleRate.isFinite, (0...1).contains(configuration.sampleRate),
            let sampler = OTel.Configuration.TracesConfiguration.SamplerConfiguration.parentBasedTraceIDRatio(
                ratio: configuration.sampleRate
            )
        else {
            throw OTLPExportConfigurationError(
                code: "invalid_sample_rate", message: "sample_rate must be between 0 and 1, not \(configuration.sampleRate)"
            )
        }
        guard configuration.endpoint.hasPrefix("http://") || configuration.endpoint.hasPrefix("https://") else {
            throw OTLPExportConfigurationError(
                code: "invalid_endpoint", message: "endpoint must be an http:// or https:// URL, not '\(configuration.endpoint)'"
            )
        }
        var otel = OTel.Configuration.default
        otel.serviceName = configuration.serviceName
        otel.diagnosticLogger = .custom(Logger(label: "harness.otel", factory: { _ in SwiftLogNoOpLogHandler() }))
        otel.propagators = [.traceContext]
        otel.logs.enabled = false
        otel.metrics.enabled = configuration.exportsMetrics
        otel.metrics.exportInterval = configuration.metricsExportInterval
        otel.traces.sampler = sampler
        otel.traces.batchSpanProcessor.scheduleDelay = configuration.spanExportDelay
        // An endpoint set in code is used as is (swift-otel appends the signal's path only to
        // its default), so each signal gets its full URL.
        let base = configuration.endpoint.hasSuffix("/") ? String(configuration.endpoint.dropLast()) : configuration.endpoint
        var exporter = otel.traces.otlpExporter
        exporter.headers = configuration.headers
        exporter.protocol = .httpProtobuf
        exporter.compression = configuration.compresses ? .gzip : .none
        exporter.endpoint = base + "/v1/traces"
        otel.traces.otlpExporter = exporter
        exporter.endpoint = base + "/v1/metrics"
        otel.metrics.otlpExporter = exporter
        return otel
    }
}
