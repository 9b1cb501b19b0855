//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Where and how `harness serve` exports traces (and metrics) over OTLP/HTTP (protobuf).
///
/// ```yaml
/// telemetry:
///   otlp:
///     endpoint: http://otel-collector:4318     # /v1/traces and /v1/metrics are appended
///     headers: { x-honeycomb-team: "${HONEYCOMB_KEY}" }
///     service_name: harness-gateway
///     sample_rate: 0.2
/// ```
public struct OTLPExportConfiguration: Sendable {
    /// The collector's base URL; `/v1/traces` and `/v1/metrics` are appended.
    public var endpoint: String
    /// Headers sent with every export (a collector's API key, for instance).
    public var headers: [(String, String)]
    /// `service.name` of the exported resource.
    public var serviceName: String
    /// The share of new traces recorded, 0…1 (parent-based: a request that arrives with a
    /// sampled `traceparent` is recorded whatever the rate).
    public var sampleRate: Double
    /// Export metrics too (every ``metricsExportInterval``).
    public var exportsMetrics: Bool
    /// How often metrics are exported.
    public var metricsExportInterval: Duration
    /// How long finished spans wait to be batched before export.
    public var spanExportDelay: Duration
    /// Gzip the export bodies.
    public var compresses: Bool

    public init(
        endpoint: String,
        headers: [(String, String)] = [],
        serviceName: String = "harness",
        sampleRate: Double = 1,
        exportsMetrics: Bool = false,
        metricsExportInterval: Duration = .seconds(60),
        spanExportDelay: Duration = .seconds(5),
        compresses: Bool = false
    ) {
        self.endpoint = endpoint
        self.headers = headers
        self.serviceName = serviceName
        self.sampleRate = sampleRate
        self.exportsMetrics = exportsMetrics
        self.metricsExportInterval = metricsExportInterval
        self.spanExportDelay = spanExportDelay
        self.compresses = compresses
    }
}

/// A telemetry configuration that cannot be used; `code` names the problem.
public struct OTLPExportConfigurationError: Error, Sendable, CustomStringConvertible {
    /// `invalid_sample_rate`, `invalid_endpoint`.
    public var code: String
    public var message: String

    public var description: String { "telemetry (\(code)): \(message)" }
}
