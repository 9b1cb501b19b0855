//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Logging

/// A log handler that passes on a sample of the lines below `warning`.
///
/// A line is always passed on when its level is `warning` or above, or when its `event`
/// metadata value (``eventKey``) is one of ``alwaysLogged``; otherwise with probability
/// ``rate``. Lines below the wrapped handler's level are dropped before sampling.
///
/// ```swift
/// LoggingSystem.bootstrap { label in
///     SamplingLogHandler(
///         wrapping: RedactingLogHandler(wrapping: StreamLogHandler.standardError(label: label)),
///         rate: 0.1, alwaysLogged: ["run.failed", "run.finished"]
///     )
/// }
/// ```
public struct SamplingLogHandler: LogHandler {
    /// The metadata key naming an event.
    public static let eventKey = "event"

    /// The handler that writes the sampled lines.
    public var wrapped: any LogHandler
    /// The share of other lines passed on, from 0 (none) to 1 (all).
    public var rate: Double
    /// Event names that are always logged.
    public var alwaysLogged: Set<String>
    private let draw: @Sendable () -> Double

    /// Samples lines for `wrapped` at `rate` (clamped to 0…1), always passing events named in
    /// `alwaysLogged` and warnings or worse. `draw` returns a number in 0..<1 (random by default).
    public init(
        wrapping wrapped: any LogHandler,
        rate: Double,
        alwaysLogged: Set<String> = [],
        draw: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.wrapped = wrapped
        self.rate = rate.isNaN ? 0 : min(1, max(0, rate))
        self.alwaysLogged = alwaysLogged
        self.draw = draw
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        if shouldLog(event) { wrapped.log(event: event) }
    }

    /// Whether `event` is passed on.
    public func shouldLog(_ event: LogEvent) -> Bool {
        if event.level >= .warning { return true }
        if !alwaysLogged.isEmpty, let name = eventName(event), alwaysLogged.contains(name) { return true }
        if rate >= 1 { return true }
        if rate <= 0 { return false }
        return draw() < rate
    }

    private func eventName(_ event: LogEvent) -> String? {
        let value = event.metadata?[Self.eventKey] ?? wrapped[metadataKey: Self.eventKey]
        switch value {
        case .string(let name): return name
        case .stringConvertible(let name): return name.description
        default: return nil
        }
    }
}
