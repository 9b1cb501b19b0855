//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Harness
import PostgresNIO
public import struct Foundation.Data
public import struct Foundation.Date

/// The PostgreSQL ``HarnessCore/Cache``: the cache tier shared by many instances.
///
/// Entries live in an `UNLOGGED` table: writes skip the WAL, and a server crash empties the
/// cache (which a cache may lose). Expiry times come from this machine's clock. An expired
/// entry is never returned; reading one deletes it, and ``evictExpired(now:)`` sweeps the rest.
public struct PostgresCache: Cache {
    let database: PostgresDatabase
    /// Separates caches sharing the table: each namespace has its own keys.
    public let namespace: String
    private let entries: String

    /// A cache over `database`'s tables; call ``PostgresDatabase/migrate()`` first.
    ///
    /// - Parameter namespace: Keeps these keys apart from other caches' in the same table.
    public init(database: PostgresDatabase, namespace: String = "default") {
        self.database = database
        self.namespace = namespace
        entries = database.table("harness_cache")
    }

    public func get(_ key: String) async throws -> Data? {
        let now = Date().timeIntervalSinceReferenceDate
        let rows = try await database.query("cache get", """
            SELECT value, expires_at FROM \(unescaped: entries) WHERE namespace = \(namespace) AND key = \(key)
            """)
        guard let row = rows.first else { return nil }
        let (value, expiresAt) = try database.performSync("cache get") { try row.decode((Data, Double?).self) }
        guard let expiresAt, expiresAt <= now else { return value }
        // Expired: delete it, unless a concurrent set has replaced it meanwhile.
        _ = try await database.query("cache get", """
            DELETE FROM \(unescaped: entries)
            WHERE namespace = \(namespace) AND key = \(key) AND expires_at <= \(now)
            """)
        return nil
    }

    public func set(_ key: String, value: Data, ttl: Duration?) async throws {
        let expiresAt = ttl.map { Date().addingTimeInterval($0.timeInterval).timeIntervalSinceReferenceDate }
        _ = try await database.query("cache set", """
            INSERT INTO \(unescaped: entries) (namespace, key, value, expires_at)
            VALUES (\(namespace), \(key), \(value), \(expiresAt))
            ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            """)
    }

    public func delete(_ key: String) async throws {
        _ = try await database.query("cache delete", """
            DELETE FROM \(unescaped: entries) WHERE namespace = \(namespace) AND key = \(key)
            """)
    }

    /// Deletes every entry of this namespace that has expired by `now`; returns how many.
    @discardableResult
    public func evictExpired(now: Date = Date()) async throws -> Int {
        let rows = try await database.query("cache eviction", """
            WITH evicted AS (
                DELETE FROM \(unescaped: entries)
                WHERE namespace = \(namespace) AND expires_at <= \(now.timeIntervalSinceReferenceDate)
                RETURNING 1
            )
            SELECT count(*) FROM evicted
            """)
        return try database.performSync("cache eviction") { try rows.first?.decode(Int.self) ?? 0 }
    }
}
