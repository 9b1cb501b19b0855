//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import GRDB

/// The schema, as a history of migrations.
///
/// Rules for new migrations: append one with the next identifier ("v2", …); never edit or
/// remove an applied one; only add (tables, columns with defaults, indexes), so that an
/// older Harness can still read what it knows.
///
/// Conventions of the schema:
/// - Times are `REAL` seconds since 2001-01-01 00:00:00 UTC (Foundation's reference date,
///   `Date.timeIntervalSinceReferenceDate`): a `Date` comes back bit for bit. In SQL, the
///   Unix time is `created_at + 978307200`.
/// - JSON columns (`*_json`) are UTF-8 `TEXT` written by `JSONEncoder` with sorted keys.
/// - Every table but `cache` has a `tenant` column, and every tenant-scoped query filters
///   on it.
extension SQLiteDatabase {
    /// The identifiers of the migrations this version knows, in order.
    static var migrationIdentifiers: [String] { migrations.map(\.identifier) }

    static let migrations: [(identifier: String, sql: String)] = [("v1", v1)]

    /// A migrator with every known migration registered.
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            let sql = migration.sql
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    /// Conversations, turns, usage, keys, jobs and the cache.
    static let v1 = """
        CREATE TABLE conversations (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE INDEX conversations_by_update ON conversations (tenant, updated_at DESC, id DESC);

        CREATE TABLE turns (
            tenant TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            sequence INTEGER NOT NULL CHECK (sequence >= 0),
            role TEXT NOT NULL,
            message_json TEXT NOT NULL,
            model TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_write_tokens INTEGER,
            reasoning_tokens INTEGER,
            metadata_json TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            PRIMARY KEY (tenant, conversation_id, sequence),
            FOREIGN KEY (tenant, conversation_id) REFERENCES conversations (tenant, id) ON DELETE CASCADE
        );

        CREATE TABLE turn_metadata (
            tenant TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (tenant, conversation_id, sequence, key),
            FOREIGN KEY (tenant, conversation_id, sequence)
                REFERENCES turns (tenant, conversation_id, sequence) ON DELETE CASCADE
        );
        CREATE INDEX turn_metadata_by_value ON turn_metadata (tenant, key, value, conversation_id);

        CREATE TABLE usage_records (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            api_key_id TEXT,
            conversation_id TEXT,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            latency_ms INTEGER NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE INDEX usage_records_by_time ON usage_records (tenant, created_at);
        CREATE INDEX usage_records_by_key ON usage_records (tenant, api_key_id, created_at);

        CREATE TABLE virtual_keys (
            id TEXT NOT NULL PRIMARY KEY,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            display_prefix TEXT NOT NULL,
            budget_usd REAL,
            requests_per_minute INTEGER,
            tokens_per_minute INTEGER,
            created_at REAL NOT NULL,
            revoked_at REAL
        );
        CREATE INDEX virtual_keys_by_tenant ON virtual_keys (tenant, created_at, id);

        CREATE TABLE jobs (
            id TEXT NOT NULL PRIMARY KEY,
            tenant TEXT NOT NULL,
            parent_id TEXT,
            kind TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
            payload_json TEXT NOT NULL,
            result_json TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX jobs_claimable ON jobs (state, kind, created_at);
        CREATE INDEX jobs_by_tenant ON jobs (tenant, state, created_at);

        CREATE TABLE cache (
            key TEXT NOT NULL PRIMARY KEY,
            value BLOB NOT NULL,
            expires_at REAL
        );
        CREATE INDEX cache_by_expiry ON cache (expires_at) WHERE expires_at IS NOT NULL;
        """
}
