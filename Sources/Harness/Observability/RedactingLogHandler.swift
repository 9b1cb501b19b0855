//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Logging

/// A log handler that removes secrets before another handler sees a line.
///
/// Messages, metadata values (also nested ones, the handler's own metadata and its metadata
/// provider's) and error descriptions go through ``Redaction/scrub(_:)``: API-key shapes
/// (`sk-…`, `sk-ant-…`, `AIza…`, `AKIA…`) and `Bearer …` tokens become `[redacted]`. The value
/// of a sensitive key (``Redaction/isSensitiveKey(_:)``: `Authorization`, `x-api-key`,
/// `api_key`, …) is replaced whatever it looks like.
///
/// ```swift
/// LoggingSystem.bootstrap { label in
///     RedactingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
/// }
/// ```
public struct RedactingLogHandler: LogHandler {
    /// The handler that writes the redacted lines.
    public var wrapped: any LogHandler
    private var ownMetadata: Logger.Metadata = [:]
    /// Evaluated here, so that its values are redacted too.
    public var metadataProvider: Logger.MetadataProvider?

    /// Redacts what reaches `wrapped`.
    public init(wrapping wrapped: any LogHandler) {
        var inner = wrapped
        self.metadataProvider = inner.metadataProvider
        // Set only when there is one: handlers without provider support warn on any set.
        if inner.metadataProvider != nil { inner.metadataProvider = nil }
        self.ownMetadata = Self.redact(inner.metadata)
        if !inner.metadata.isEmpty { inner.metadata = [:] }
        self.wrapped = inner
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { ownMetadata }
        set { ownMetadata = Self.redact(newValue) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { ownMetadata[key] }
        set { ownMetadata[key] = newValue.map { Self.redact($0, key: key) } }
    }

    public func log(event: LogEvent) {
        var event = event
        var merged = ownMetadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(Self.redact(provided), uniquingKeysWith: { _, provided in provided })
        }
        if let metadata = event.metadata, !metadata.isEmpty {
            merged.merge(Self.redact(metadata), uniquingKeysWith: { _, event in event })
        }
        event.metadata = merged.isEmpty ? nil : merged
        event.message = "\(Redaction.scrub(event.message.description))"
        if let error = event.error { event.error = RedactedError(description: Redaction.scrub(String(describing: error))) }
        wrapped.log(event: event)
    }

    /// `metadata` with secrets removed.
    public static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var out = metadata
        for (key, value) in metadata { out[key] = redact(value, key: key) }
        return out
    }

    static func redact(_ value: Logger.Metadata.Value, key: String) -> Logger.Metadata.Value {
        if Redaction.isSensitiveKey(key) { return "[redacted]" }
        switch value {
        case .string(let text): return .string(Redaction.scrub(text))
        case .stringConvertible(let convertible): return .string(Redaction.scrub(convertible.description))
        case .dictionary(let dictionary): return .dictionary(redact(dictionary))
        case .array(let values): return .array(values.map { redact($0, key: key) })
        }
    }
}

/// An error's redacted description, standing in for the error in a redacted log event.
public struct RedactedError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
