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
public import HarnessCore

/// The ``VirtualKeyStore`` on SQLite: one row of `virtual_keys` per key, holding its
/// SHA-256 hash (unique) and never the key itself.
public struct SQLiteVirtualKeyStore: VirtualKeyStore {
    /// The database.
    public let database: SQLiteDatabase

    /// A store in `database`, which other stores may share.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Stores `key`.
    ///
    /// - Throws: ``HarnessError`` with code `invalidArgument` when a key with this id or
    ///   hash exists already.
    public func create(_ key: VirtualKey) async throws {
        do {
            try await database.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO virtual_keys (
                            id, tenant, name, key_hash, display_prefix, budget_usd, requests_per_minute,
                            tokens_per_minute, created_at, revoked_at
                        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        key.id, key.tenant, key.name, key.keyHash, key.displayPrefix, key.budgetUSD,
                        key.requestsPerMinute, key.tokensPerMinute, StoredValue.time(key.createdAt),
                        key.revokedAt.map(StoredValue.time),
                    ]
                )
            }
        } catch where SQLiteDatabase.isUniquenessViolation(error) {
            throw HarnessError(.invalidArgument, "a key with this id or hash already exists")
        } catch {
            throw SQLiteDatabase.storageError(error, "creating a virtual key")
        }
    }

    public func find(hash: String) async throws -> VirtualKey? {
        try await database.read("finding a virtual key") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM virtual_keys WHERE key_hash = ?", arguments: [hash]).map(Self.key)
        }
    }

    public func list(tenant: String) async throws -> [VirtualKey] {
        try await database.read("listing virtual keys") { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM virtual_keys WHERE tenant = ? ORDER BY created_at, id",
                arguments: [tenant]
            ).map(Self.key)
        }
    }

    @discardableResult
    public func revoke(id: String, tenant: String, at date: Date) async throws -> Bool {
        try await database.write("revoking a virtual key") { db in
            try db.execute(
                sql: "UPDATE virtual_keys SET revoked_at = ? WHERE id = ? AND tenant = ? AND revoked_at IS NULL",
                arguments: [StoredValue.time(date), id, tenant]
            )
            return db.changesCount > 0
        }
    }

    static func key(_ row: Row) throws -> VirtualKey {
        let table = "virtual_keys"
        let revokedAt: Double? = try row.optional("revoked_at", in: table)
        return VirtualKey(
            id: try row.required("id", in: table),
            tenant: try row.required("tenant", in: table),
            name: try row.required("name", in: table),
            keyHash: try row.required("key_hash", in: table),
            displayPrefix: try row.required("display_prefix", in: table),
            budgetUSD: try row.optional("budget_usd", in: table),
            requestsPerMinute: try row.optional("requests_per_minute", in: table),
            tokensPerMinute: try row.optional("tokens_per_minute", in: table),
            createdAt: StoredValue.date(try row.required("created_at", in: table)),
            revokedAt: revokedAt.map(StoredValue.date)
        )
    }
}
