//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Synchronization

/// Collects the ``CallReport`` of every model call a resilience wrapper makes within a
/// scope, streams included.
///
/// `complete` also attaches its report to the response; a stream has no response to carry
/// it, and its `finish` event has no room for one, so wrappers hand reports to the
/// collector bound to the calling task instead. A task-local keeps the wrappers free of
/// any parameter for it, works for any consumer of a stream (the orchestrator, the
/// gateway), and costs nothing when nobody collects. The stream's producer task is created
/// by `stream(_:)` and inherits the binding, so call `stream(_:)` inside the scope.
///
/// ```swift
/// let collector = CallReportCollector()
/// try await CallReportCollector.$current.withValue(collector) {
///     for try await event in router.stream(request) { … }
/// }
/// print(collector.reports)
/// ```
public final class CallReportCollector: Sendable {
    /// The collector of the current task, if any.
    @TaskLocal public static var current: CallReportCollector?

    private let storage = Mutex<[CallReport]>([])

    public init() {}

    /// Adds a report.
    public func record(_ report: CallReport) {
        storage.withLock { $0.append(report) }
    }

    /// The reports so far, in the order the calls ended.
    public var reports: [CallReport] { storage.withLock { $0 } }
}
