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
import CoreMetrics
import HarnessConfig
public import HarnessCore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Writes the gateway's usage records in batches: each request adds its record to a buffer
/// and goes on; the recorder writes the buffer every ``interval`` in one call to
/// `record(contentsOf:)` (one transaction on SQLite). On graceful shutdown it writes what
/// is left before it returns, so a SIGTERM loses no record. A failed write is retried on the
/// next tick (records are idempotent by id); nothing is dropped unless the buffer passes
/// ``maxBuffered``, which is logged.
public final class UsageRecorder: Service, Sendable {
    public let ledger: any UsageLedger
    public let interval: Duration
    public let maxBuffered: Int
    let logger: Logger
    private let buffer = Mutex<[UsageRecord]>([])
    private let flushedCount = Atomic<Int>(0)

    public init(ledger: any UsageLedger, interval: Duration = .milliseconds(100), maxBuffered: Int = 100_000, logger: Logger = Logger(label: "harness.usage")) {
        self.ledger = ledger
        self.interval = interval
        self.maxBuffered = maxBuffered
        self.logger = logger
    }

    /// Queues a record.
    public func add(_ record: UsageRecord) {
        let dropped: Bool = buffer.withLock { b in
            guard b.count < maxBuffered else { return true }
            b.append(record)
            return false
        }
        if dropped {
            logger.error("usage buffer full; a record was dropped", metadata: ["event": "usage_dropped", "model": "\(record.model)"])
        }
    }

    /// Records written so far.
    public var written: Int { flushedCount.load(ordering: .relaxed) }

    /// Records waiting to be written.
    public var pending: Int { buffer.withLock { $0.count } }

    /// Writes everything buffered now.
    public func flush() async {
        let batch = buffer.withLock { b -> [UsageRecord] in
            let out = b
            b.removeAll(keepingCapacity: true)
            return out
        }
        guard !batch.isEmpty else { return }
        do {
            try await ledger.record(contentsOf: batch)
            flushedCount.add(batch.count, ordering: .relaxed)
        } catch {
            logger.warning("writing \(batch.count) usage records failed; retrying", metadata: ["event": "usage_write_failed", "error": "\(error)"])
            buffer.withLock { b in b.insert(contentsOf: batch, at: 0) }
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: interval)
                await flush()
            }
        } onGracefulShutdown: {}
        // Last write, also after cancellation: nothing buffered is lost.
        await flush()
    }
}
