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
import Harness
import HarnessCore

/// A Harness SQLite database file: the connection pool that every SQLite store of one
/// application shares.
///
/// Opening a database creates the file and its parent directories if needed, puts it in
/// WAL mode (a `DatabasePool` does that: readers never block the writer, nor the writer
/// readers), turns foreign keys on, waits ``Configuration/busyTimeout`` for another process
/// that holds the write lock, and brings the schema up to date by applying the migrations
/// this version knows ("v1", "v2", …) that are not applied yet. Migrations only ever add.
///
/// A database whose applied migrations include one this version does not know was written
/// by a newer Harness; opening it throws a ``HarnessError`` with code `storage` rather than
/// risk reading or writing a schema it does not understand.
///
/// Writes run one at a time, each in a `BEGIN IMMEDIATE` transaction, so that a store can
/// read and then write in one step (for instance to number a turn) without another writer,
/// in this process or another, coming in between. With the default
/// ``Configuration/Synchronous/full``, a transaction is on disk when the call that made it
/// returns: it survives the process being killed and (on a disk that honours sync
/// requests) the machine losing power. Conversation appends share transactions (group
/// commit): those that arrive while one commits are made together in the next, each in a
/// savepoint of its own, and each returns once that transaction is on disk.
///
/// ```swift
/// let database = try SQLiteDatabase(path: SQLiteDatabase.defaultPath)
/// let conversations = SQLiteConversationStore(database: database)
/// let ledger = SQLiteUsageLedger(database: database)
/// ```
///
/// Copies share the same connections; the connections close when the last copy is gone.
public struct SQLiteDatabase: Sendable {
    /// How a database is opened.
    public struct Configuration: Sendable {
        /// SQLite's `synchronous` setting: how hard SQLite works to put a commit on disk.
        public enum Synchronous: String, Sendable, Hashable {
            /// Never waits for the disk. A power loss can lose or corrupt recent commits.
            case off = "OFF"
            /// In WAL mode: commits survive a process crash, but the last ones may be lost on
            /// power loss or an operating-system crash.
            case normal = "NORMAL"
            /// Every commit is synced to disk before it returns: durable on power loss. On
            /// Apple platforms this also turns on `fullfsync`, since a plain `fsync` there
            /// leaves the data in the drive's cache.
            case full = "FULL"
            /// Like `full`, and also syncs the directory after a journal is deleted.
            case extra = "EXTRA"
        }

        /// How hard SQLite works to put each commit on disk. `full` by default, so that a
        /// store call that returned is never lost.
        public var synchronous: Synchronous
        /// How long a write waits for another connection (another process, usually) that
        /// holds the write lock before it fails.
        public var busyTimeout: Duration
        /// The most connections that read at once.
        public var maximumReaderCount: Int

        /// Settings for opening a database; the defaults are durable.
        public init(synchronous: Synchronous = .full, busyTimeout: Duration = .seconds(5), maximumReaderCount: Int = 5) {
            self.synchronous = synchronous
            self.busyTimeout = busyTimeout
            self.maximumReaderCount = maximumReaderCount
        }
    }

    /// Where the `harness` application keeps its database, relative to the working
    /// directory: `.harness/harness.sqlite`.
    public static let defaultPath = ".harness/harness.sqlite"

    /// The database file, or `nil` for an in-memory database.
    public let path: String?

    /// The connections.
    let writer: any DatabaseWriter

    /// The queue of writes that share transactions (see ``groupedWrite(_:_:)``).
    let groupCommit: GroupCommitQueue

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// - Throws: ``HarnessError`` with code `storage` when the file cannot be opened or
    ///   migrated, or was written by a newer Harness.
    public init(path: String = SQLiteDatabase.defaultPath, configuration: Configuration = Configuration()) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError(.storage, "could not create the directory of the database at \(path)")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration.grdbConfiguration)
        } catch {
            throw Self.storageError(error, "opening the database at \(path)")
        }
        // Opening in WAL mode sets `synchronous = NORMAL` on the writer connection after
        // `prepareDatabase` ran: set it again. (Readers never commit; theirs does not matter.)
        do {
            let pragmas = configuration.durabilityPragmas
            try pool.writeWithoutTransaction { db in try db.execute(sql: pragmas) }
        } catch {
            throw Self.storageError(error, "configuring the database at \(path)")
        }
        try Self.migrate(pool, location: path)
        self.init(writer: pool, path: path)
    }

    /// Opens a new, private, in-memory database with the current schema; it is gone when
    /// the last copy of the value is. For tests and throwaway work.
    public static func inMemory(configuration: Configuration = Configuration()) throws -> SQLiteDatabase {
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(configuration: configuration.grdbConfiguration)
        } catch {
            throw storageError(error, "opening an in-memory database")
        }
        try migrate(queue, location: "an in-memory database")
        return SQLiteDatabase(writer: queue, path: nil)
    }

    init(writer: any DatabaseWriter, path: String?) {
        self.writer = writer
        self.path = path
        self.groupCommit = GroupCommitQueue(writer: writer)
    }

    /// Refuses a database from a newer Harness, then applies the migrations not applied yet.
    static func migrate(_ writer: any DatabaseWriter, location: String) throws {
        let migrator = Self.migrator()
        let known = Set(Self.migrationIdentifiers)
        let applied: Set<String>
        do {
            applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
        } catch {
            throw storageError(error, "reading the migrations of the database at \(location)")
        }
        if let unknown = applied.subtracting(known).sorted().first {
            throw HarnessError(
                .storage,
                "the database at \(location) was written by a newer Harness (unknown migration '\(unknown)')"
            )
        }
        do {
            try migrator.migrate(writer)
        } catch {
            throw storageError(error, "migrating the database at \(location)")
        }
    }
}

extension SQLiteDatabase.Configuration {
    /// The GRDB configuration for these settings.
    var grdbConfiguration: GRDB.Configuration {
        var config = GRDB.Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout.timeInterval)
        config.maximumReaderCount = max(1, maximumReaderCount)
        config.label = "harness"
        let pragmas = durabilityPragmas
        config.prepareDatabase { db in
            try db.execute(sql: pragmas)
        }
        return config
    }

    /// The statements that set ``synchronous`` on a connection.
    var durabilityPragmas: String {
        let full = synchronous == .full || synchronous == .extra
        // `fullfsync` only has an effect on Apple platforms.
        return """
            PRAGMA synchronous = \(synchronous.rawValue);
            PRAGMA fullfsync = \(full ? "ON" : "OFF");
            PRAGMA checkpoint_fullfsync = \(full ? "ON" : "OFF");
            """
    }
}
