//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Instrumentation

/// Reads trace context (W3C `traceparent` / `tracestate`, or whatever the instrument
/// propagates) from request headers given as name-value pairs. Names are compared without case.
public struct HeaderFieldsExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: [(String, String)]) -> String? {
        for (name, value) in carrier where name.count == key.count && name.lowercased() == key.lowercased() {
            return value
        }
        return nil
    }
}

/// Reads trace context from headers given as a dictionary. Names are compared without case.
public struct HeaderDictionaryExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: [String: String]) -> String? {
        if let value = carrier[key] { return value }
        let lower = key.lowercased()
        return carrier.first { $0.key.lowercased() == lower }?.value
    }
}

/// Writes trace context into headers given as name-value pairs, replacing a header of the same name.
public struct HeaderFieldsInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [(String, String)]) {
        let lower = key.lowercased()
        carrier.removeAll { $0.0.lowercased() == lower }
        carrier.append((key, value))
    }
}

/// Trace context across process boundaries.
///
/// The gateway calls ``extract(from:instrument:)`` with an incoming request's headers and runs
/// the request inside the returned context, so that a client's `traceparent` becomes the parent
/// of the run's spans:
///
/// ```swift
/// let context = TraceContextPropagation.extract(from: request.headers.map { ($0.name.rawName, $0.value) })
/// let result = try await ServiceContext.withValue(context) {
///     try await orchestrator.run(agent, input: input)
/// }
/// ```
///
/// Outgoing provider requests carry it through `ProviderHTTPClient`, which injects the current
/// context into every request's headers.
public enum TraceContextPropagation {
    /// The context `headers` carry, on top of `base` (the current context, else top level).
    /// `instrument` decides the format; `nil` uses the process-wide instrument.
    public static func extract(
        from headers: [(String, String)],
        into base: ServiceContext = .current ?? .topLevel,
        instrument: (any Instrument)? = nil
    ) -> ServiceContext {
        var context = base
        (instrument ?? InstrumentationSystem.instrument).extract(headers, into: &context, using: HeaderFieldsExtractor())
        return context
    }

    /// The context `headers` carry, on top of `base`. See ``extract(from:into:instrument:)-(…)``.
    public static func extract(
        from headers: [String: String],
        into base: ServiceContext = .current ?? .topLevel,
        instrument: (any Instrument)? = nil
    ) -> ServiceContext {
        var context = base
        (instrument ?? InstrumentationSystem.instrument).extract(headers, into: &context, using: HeaderDictionaryExtractor())
        return context
    }

    /// `context` written as headers (`traceparent`, `tracestate`, …) for an outgoing request.
    public static func headers(
        for context: ServiceContext = .current ?? .topLevel,
        instrument: (any Instrument)? = nil
    ) -> [(String, String)] {
        var headers: [(String, String)] = []
        (instrument ?? InstrumentationSystem.instrument).inject(context, into: &headers, using: HeaderFieldsInjector())
        return headers
    }
}
