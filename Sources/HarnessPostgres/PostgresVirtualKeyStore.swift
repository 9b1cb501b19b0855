//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import PostgresNIO
public import struct Foundation.Date

/// The PostgreSQL ``HarnessCore/VirtualKeyStore``. Ids and hashes are unique across tenants
/// (unique indexes), as the port requires.
public struct PostgresVirtualKeyStore: VirtualKeyStore {
    let database: PostgresDatabase
    private let keys: String

    /// A store over `database`'s tables; call ``PostgresDatabase/migrate()`` first.
    public init(database: PostgresDatabase) {
        self.database = database
        keys = database.table("harness_virtual_keys")
    }

    private static let columns = """
        tenant, id, name, key_hash, display_prefix, budget_usd, requests_per_minute, tokens_per_minute,
        created_at, revoked_at
        """

    public func create(_ key: VirtualKey) async throws {
        let rows = try await database.query("create key", """
            INSERT INTO \(unescaped: keys) (\(unescaped: Self.columns)) VALUES (
                \(key.tenant), \(key.id), \(key.name), \(key.keyHash), \(key.displayPrefix), \(key.budgetUSD),
                \(key.requestsPerMinute), \(key.tokensPerMinute), \(key.createdAt.timeIntervalSinceReferenceDate),
                \(key.revokedAt?.timeIntervalSinceReferenceDate)
            )
            ON CONFLICT DO NOTHING
            RETURNING id
            """)
        if rows.isEmpty { throw HarnessError(.invalidArgument, "a key with this id or hash already exists") }
    }

    public func find(hash: String) async throws -> VirtualKey? {
        let rows = try await database.query("find key", """
            SELECT \(unescaped: Self.columns) FROM \(unescaped: keys) WHERE key_hash = \(hash)
            """)
        return try decode(rows).first
    }

    public func list(tenant: String) async throws -> [VirtualKey] {
        let rows = try await database.query("list keys", """
            SELECT \(unescaped: Self.columns) FROM \(unescaped: keys) WHERE tenant = \(tenant) ORDER BY created_at, id
            """)
        return try decode(rows)
    }

    @discardableResult
    public func revoke(id: String, tenant: String, at date: Date) async throws -> Bool {
        let rows = try await database.query("revoke key", """
            UPDATE \(unescaped: keys) SET revoked_at = \(date.timeIntervalSinceReferenceDate)
            WHERE tenant = \(tenant) AND id = \(id) AND revoked_at IS NULL
            RETURNING id
            """)
        return !rows.isEmpty
    }

    private func decode(_ rows: [PostgresRow]) throws -> [VirtualKey] {
        try database.performSync("read keys") {
            try rows.map { row in
                let (tenant, id, name, hash, prefix, budget, rpm, tpm, createdAt, revokedAt) = try row.decode(
                    (String, String, String, String, String, Double?, Int?, Int?, Double, Double?).self
                )
                return VirtualKey(
                    id: id, tenant: tenant, name: name, keyHash: hash, displayPrefix: prefix, budgetUSD: budget,
                    requestsPerMinute: rpm, tokensPerMinute: tpm,
                    createdAt: Date(timeIntervalSinceReferenceDate: createdAt),
                    revokedAt: revokedAt.map { Date(timeIntervalSinceReferenceDate: $0) }
                )
            }
        }
    }
}
