//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import GRDB
import Synchronization

/// Group commit: writes that arrive while a transaction is being committed wait for it, and
/// the next transaction makes all of them at once, each in a savepoint of its own, so that
/// one sync to disk serves them all.
///
/// The first write submitted when no transaction is under way starts a task, the leader,
/// that drains the queue: it takes every write waiting (up to ``maximumBatchSize``), runs
/// them in the order they were submitted in one write transaction, and only once that
/// transaction has committed resumes each caller with its own result. Then it takes what
/// arrived in the meantime, and so on until nothing waits.
///
/// - A write that throws rolls back its own savepoint and its caller gets its error; the
///   other writes of the batch are not affected.
/// - When the transaction as a whole fails (SQLite rolled it back, or the commit failed),
///   every caller of the batch gets the error, and none of its writes was made.
/// - A caller cancelled while its write still waits gets `CancellationError`, and the write
///   is never made. Once the batch it is in has been taken, the write is made (or fails) and
///   the caller gets that outcome: cancellation cannot leave the caller wrong about it.
///
/// A write sees the writes before it in the same batch, as it would had they committed
/// separately: to a caller the only difference is that several writes share a commit.
final class GroupCommitQueue: Sendable {
    /// A write, type-erased: ``write(_:)`` casts the value back.
    typealias Work = @Sendable (Database) throws -> any Sendable

    /// The most writes one transaction makes; the rest wait for the next.
    static let maximumBatchSize = 1_000

    /// Counts of what the queue did, for tests and diagnostics.
    struct Statistics: Sendable, Equatable {
        /// Transactions begun.
        var batches = 0
        /// Writes taken into those transactions.
        var writes = 0
        /// The most writes one transaction had.
        var largestBatch = 0
    }

    private struct Entry: Sendable {
        let id: UInt64
        let work: Work
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        /// The writes not yet taken into a transaction, in the order they arrived.
        var pending: [Entry] = []
        /// Whether a leader is draining the queue.
        var draining = false
        var nextID: UInt64 = 0
        var statistics = Statistics()
    }

    private enum Arrival {
        case cancelled
        case queued
        case leads
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in a savepoint of the next group transaction and returns its value once
    /// that transaction has committed.
    ///
    /// - Throws: what `work` threw (its savepoint was rolled back), what made the whole
    ///   transaction fail, or `CancellationError` when the task was cancelled before the
    ///   write was taken into a transaction. Errors come as GRDB threw them.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let value = try await submit { db in try work(db) }
        guard let value = value as? T else {
            preconditionFailure("a group commit write returned \(type(of: value)), not \(T.self)")
        }
        return value
    }

    /// What the queue has done so far.
    var statistics: Statistics {
        state.withLock { $0.statistics }
    }

    /// How many writes wait for a transaction (not counting those being written).
    var waitingCount: Int {
        state.withLock { $0.pending.count }
    }

    private func submit(_ work: @escaping Work) async throws -> any Sendable {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let arrival = state.withLock { state -> Arrival in
                    // Checked under the lock: a cancellation handler that ran before the
                    // write was queued found nothing to remove, and the flag is set by then.
                    if Task.isCancelled { return .cancelled }
                    state.pending.append(Entry(id: id, work: work, continuation: continuation))
                    if state.draining { return .queued }
                    state.draining = true
                    return .leads
                }
                switch arrival {
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                case .queued:
                    break
                case .leads:
                    // A task of its own, so that cancelling the caller does not cancel the
                    // transaction that its batch-mates wait for.
                    Task { await self.drain() }
                }
            }
        } onCancel: {
            let removed = state.withLock { state -> Entry? in
                guard let index = state.pending.firstIndex(where: { $0.id == id }) else { return nil }
                return state.pending.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Writes batch after batch until nothing waits.
    private func drain() async {
        while let batch = nextBatch() {
            let works = batch.map(\.work)
            let outcomes: [Result<any Sendable, any Error>]
            do {
                outcomes = try await writer.write { db in try Self.run(works, in: db) }
            } catch {
                outcomes = Array(repeating: .failure(error), count: batch.count)
            }
            for (entry, outcome) in zip(batch, outcomes) {
                entry.continuation.resume(with: outcome)
            }
        }
    }

    /// Takes the writes waiting, oldest first; `nil`, with draining over, when there are none.
    private func nextBatch() -> [Entry]? {
        state.withLock { state -> [Entry]? in
            guard !state.pending.isEmpty else {
                state.draining = false
                return nil
            }
            let count = min(state.pending.count, Self.maximumBatchSize)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            state.statistics.batches += 1
            state.statistics.writes += count
            state.statistics.largestBatch = max(state.statistics.largestBatch, count)
            return batch
        }
    }

    /// Runs each write in its own savepoint of the current transaction, in order.
    ///
    /// The savepoint statements are cached (GRDB's `inSavepoint` compiles them each time,
    /// about 30% of the writer's time per append).
    ///
    /// - Throws: when SQLite rolled the whole transaction back (it does on some errors: a
    ///   full disk, an I/O error, `RAISE(ROLLBACK)`): the writes before were undone too; or
    ///   when a savepoint cannot be begun, released or rolled back.
    static func run(_ works: [Work], in db: Database) throws -> [Result<any Sendable, any Error>] {
        let begin = try db.cachedStatement(sql: "SAVEPOINT grouped_write")
        let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT grouped_write")
        let rollback = try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT grouped_write")
        var outcomes: [Result<any Sendable, any Error>] = []
        outcomes.reserveCapacity(works.count)
        for work in works {
            try begin.execute()
            do {
                outcomes.append(.success(try work(db)))
            } catch {
                guard db.isInsideTransaction else { throw error }
                try rollback.execute()
                outcomes.append(.failure(error))
            }
            try release.execute()
        }
        return outcomes
    }
}
