//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import HarnessCore

extension SQLiteDatabase {
    /// Runs `updates` in one write transaction (`BEGIN IMMEDIATE`, serialized with every
    /// other write), committed when it returns and rolled back when it throws. Errors come
    /// out as ``HarnessError``s; `operation` names what was being done, for the message.
    func write<T: Sendable>(_ operation: String, _ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(updates)
        } catch {
            throw Self.storageError(error, operation)
        }
    }

    /// Like ``write(_:_:)``, but on the ``BackgroundWriteThread``: for bookkeeping batches
    /// that should give way to request handling. The transaction takes the same writer
    /// (serialized with every other write) and runs on that thread.
    func backgroundWrite<T: Sendable>(_ operation: String, _ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let writer = self.writer
        do {
            return try await BackgroundWriteThread.shared.run { try writer.write(updates) }
        } catch {
            throw Self.storageError(error, operation)
        }
    }

    /// Runs `updates` in a savepoint of a write transaction that it shares with the other
    /// grouped writes waiting at the time (group commit: one sync to disk for all of them),
    /// and returns once that transaction has committed. When `updates` throws, its savepoint
    /// alone is rolled back; when the shared transaction fails, every write in it fails.
    /// A task cancelled before its write was taken into a transaction gets
    /// `CancellationError`, and the write is not made. See ``GroupCommitQueue``.
    ///
    /// `updates` must not depend on being alone in its transaction: it sees the writes made
    /// before it in the same transaction, as if they had committed.
    func groupedWrite<T: Sendable>(
        _ operation: String,
        _ updates: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await groupCommit.write(updates)
        } catch {
            throw Self.storageError(error, operation)
        }
    }

    /// Runs `value` on a read connection, in a transaction that sees one snapshot.
    func read<T: Sendable>(_ operation: String, _ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.read(value)
        } catch {
            throw Self.storageError(error, operation)
        }
    }

    /// `error` as an error for callers: ``HarnessError``s and cancellation pass through;
    /// anything else becomes a `storage` error naming the operation and the SQLite result,
    /// never the statement's arguments.
    static func storageError(_ error: any Error, _ operation: String) -> any Error {
        switch error {
        case is HarnessError, is CancellationError:
            return error
        case let error as DatabaseError:
            let detail = error.message.map { ": \($0)" } ?? ""
            return HarnessError(.storage, "\(operation) failed (SQLite error \(error.extendedResultCode.rawValue)\(detail))")
        default:
            return HarnessError(.storage, "\(operation) failed (\(type(of: error)))")
        }
    }

    /// Whether `error` is a violated UNIQUE or PRIMARY KEY constraint.
    static func isUniquenessViolation(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
    }
}

/// Encoding and decoding of stored values.
enum StoredValue {
    /// `value` as JSON text with sorted keys.
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The value of JSON text written by ``json(_:)``; `what` names it for the error.
    static func decode<T: Decodable>(_ type: T.Type, json text: String, _ what: @autoclosure () -> String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw HarnessError(.storage, "\(what()) could not be decoded")
        }
    }

    /// A date as stored: seconds since the reference date, which round-trips exactly.
    static func time(_ date: Date) -> Double { date.timeIntervalSinceReferenceDate }

    /// A stored time as a date.
    static func date(_ time: Double) -> Date { Date(timeIntervalSinceReferenceDate: time) }
}

extension Row {
    /// The non-null value of `column`, or a `storage` error naming it.
    func required<T: DatabaseValueConvertible>(_ column: String, in table: String) throws -> T {
        guard let value = T.fromDatabaseValue(self[column] as DatabaseValue) else {
            throw HarnessError(.storage, "a row of '\(table)' has no valid value in column '\(column)'")
        }
        return value
    }

    /// The value of `column`, `nil` when it is NULL, or a `storage` error when it is not a `T`.
    func optional<T: DatabaseValueConvertible>(_ column: String, in table: String) throws -> T? {
        let stored: DatabaseValue = self[column]
        if stored.isNull { return nil }
        guard let value = T.fromDatabaseValue(stored) else {
            throw HarnessError(.storage, "a row of '\(table)' has an invalid value in column '\(column)'")
        }
        return value
    }
}
