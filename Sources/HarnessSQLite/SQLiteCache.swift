//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Foundation
import GRDB
import Harness
public import HarnessCore

/// The ``Cache`` on SQLite: a second-level cache that outlives the process and is shared
/// by every process using the database file.
///
/// One row of `cache` per key, with its expiry time (wall clock). A `get` of an expired
/// entry returns `nil` and removes it; ``evictExpired(now:)`` removes all expired entries
/// at once (call it now and then: an expired entry nobody asks for stays until then).
/// Keys are global, not per tenant: callers put whatever separates tenants in the key.
public struct SQLiteCache: Cache {
    /// The database.
    public let database: SQLiteDatabase
    private let now: @Sendable () -> Date

    /// A cache in `database`, which stores may share.
    public init(database: SQLiteDatabase) {
        self.init(database: database, now: { Date() })
    }

    /// A cache that reads the time from `now` (for tests).
    init(database: SQLiteDatabase, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.now = now
    }

    public func get(_ key: String) async throws -> Data? {
        let time = StoredValue.time(now())
        let found = try await database.read("reading the cache") { db -> (value: Data, expired: Bool)? in
            guard let row = try Row.fetchOne(db, sql: "SELECT value, expires_at FROM cache WHERE key = ?", arguments: [key])
            else { return nil }
            let value: Data = try row.required("value", in: "cache")
            let expiresAt: Double? = try row.optional("expires_at", in: "cache")
            return (value, expiresAt.map { $0 <= time } ?? false)
        }
        guard let found else { return nil }
        guard found.expired else { return found.value }
        // Only if still expired: a `set` may have replaced it since.
        _ = try await database.write("removing an expired cache entry") { db in
            try db.execute(
                sql: "DELETE FROM cache WHERE key = ? AND expires_at IS NOT NULL AND expires_at <= ?",
                arguments: [key, time]
            )
        }
        return nil
    }

    public func set(_ key: String, value: Data, ttl: Duration?) async throws {
        let expiresAt = ttl.map { StoredValue.time(now().addingTimeInterval($0.timeInterval)) }
        try await database.write("writing the cache") { db in
            // COALESCE: an empty `Data` binds as NULL; store it as an empty blob.
            try db.execute(
                sql: """
                    INSERT INTO cache (key, value, expires_at) VALUES (?, COALESCE(?, X''), ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                    """,
                arguments: [key, value, expiresAt]
            )
        }
    }

    public func delete(_ key: String) async throws {
        try await database.write("deleting from the cache") { db in
            try db.execute(sql: "DELETE FROM cache WHERE key = ?", arguments: [key])
        }
    }

    /// Removes every entry expired at `now`; returns how many there were.
    @discardableResult
    public func evictExpired(now: Date = Date()) async throws -> Int {
        let time = StoredValue.time(now)
        return try await database.write("evicting expired cache entries") { db in
            try db.execute(sql: "DELETE FROM cache WHERE expires_at IS NOT NULL AND expires_at <= ?", arguments: [time])
            return db.changesCount
        }
    }
}
