//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
import PostgresNIO

/// Applies Harness's schema migrations, recorded in `harness_migrations`.
///
/// Rules for adding a migration: append to ``migrations`` with the next version; never edit or
/// remove a shipped one; only add (tables, nullable columns, indexes), so that an older
/// instance still running against the migrated database keeps working.
struct PostgresMigrator: Sendable {
    struct Migration: Sendable {
        var version: Int
        var name: String
        /// Statements run in order, in one transaction. `{schema}` is replaced by the schema
        /// prefix (`"name".` or nothing).
        var statements: [String]
    }

    /// Every migration, in order. Ids are `COLLATE "C"`: they sort by their bytes, as Swift
    /// sorts them in the in-memory stores, whatever the database's locale.
    static let migrations: [Migration] = [
        Migration(version: 1, name: "conversations, usage, virtual keys, jobs, cache", statements: [
            """
            CREATE TABLE {schema}harness_conversations (
                tenant TEXT NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                turn_count BIGINT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, id)
            )
            """,
            """
            CREATE INDEX harness_conversations_recent
                ON {schema}harness_conversations (tenant, updated_at DESC, id DESC)
            """,
            """
            CREATE TABLE {schema}harness_turns (
                tenant TEXT NOT NULL,
                conversation_id TEXT COLLATE "C" NOT NULL,
                sequence BIGINT NOT NULL,
                message JSON NOT NULL,
                model TEXT,
                usage JSON,
                metadata JSONB NOT NULL DEFAULT '{}',
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, conversation_id, sequence),
                FOREIGN KEY (tenant, conversation_id)
                    REFERENCES {schema}harness_conversations (tenant, id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX harness_turns_metadata ON {schema}harness_turns USING GIN (metadata jsonb_path_ops)",
            """
            CREATE TABLE {schema}harness_usage (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                api_key_id TEXT,
                conversation_id TEXT,
                model TEXT NOT NULL,
                provider TEXT NOT NULL,
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                cache_read_tokens BIGINT NOT NULL,
                cache_write_tokens BIGINT NOT NULL,
                reasoning_tokens BIGINT NOT NULL,
                cost_usd DOUBLE PRECISION NOT NULL,
                latency_ms BIGINT NOT NULL,
                status TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, id)
            )
            """,
            "CREATE INDEX harness_usage_tenant_time ON {schema}harness_usage (tenant, created_at)",
            "CREATE INDEX harness_usage_tenant_key_time ON {schema}harness_usage (tenant, api_key_id, created_at)",
            """
            CREATE TABLE {schema}harness_virtual_keys (
                tenant TEXT NOT NULL,
                id TEXT COLLATE "C" NOT NULL UNIQUE,
                name TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                display_prefix TEXT NOT NULL,
                budget_usd DOUBLE PRECISION,
                requests_per_minute BIGINT,
                tokens_per_minute BIGINT,
                created_at DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION,
                PRIMARY KEY (tenant, id)
            )
            """,
            """
            CREATE TABLE {schema}harness_jobs (
                tenant TEXT NOT NULL,
                id TEXT COLLATE "C" NOT NULL UNIQUE,
                parent_id TEXT,
                kind TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
                payload JSON NOT NULL,
                result JSON,
                error TEXT,
                attempts BIGINT NOT NULL,
                lease_owner TEXT,
                lease_expires_at DOUBLE PRECISION,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, id)
            )
            """,
            """
            CREATE INDEX harness_jobs_claimable ON {schema}harness_jobs (created_at, id)
                WHERE state IN ('pending', 'running')
            """,
            "CREATE INDEX harness_jobs_tenant_state ON {schema}harness_jobs (tenant, state, created_at, id)",
            """
            CREATE UNLOGGED TABLE {schema}harness_cache (
                namespace TEXT NOT NULL,
                key TEXT NOT NULL,
                value BYTEA NOT NULL,
                expires_at DOUBLE PRECISION,
                PRIMARY KEY (namespace, key)
            )
            """,
            """
            CREATE INDEX harness_cache_expiry ON {schema}harness_cache (namespace, expires_at)
                WHERE expires_at IS NOT NULL
            """,
        ]),
    ]

    /// The newest version this code knows.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The key of the transaction-scoped advisory lock that serializes migrations (one per
    /// database, whatever the schema): "harness" in ASCII.
    static let lockKey: Int = 0x68_61_72_6E_65_73_73

    let database: PostgresDatabase

    func migrate() async throws {
        var applied = try await database.transaction("migration") { connection in
            try await lock(connection)
            // Create only what is missing: a role without CREATE rights can run an up-to-date
            // database (CREATE ... IF NOT EXISTS would check the right first).
            let migrationsTable = database.table("harness_migrations")
            let exists = try await connection.query(
                "SELECT to_regclass(\(migrationsTable)) IS NOT NULL", logger: database.logger
            )
            var found = false
            for try await value in exists.decode(Bool.self) { found = value }
            if !found {
                if let schema = database.schema {
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: database.logger
                    )
                }
                try await connection.query(
                    PostgresQuery(unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(migrationsTable) (
                            version INT PRIMARY KEY,
                            name TEXT NOT NULL,
                            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                        )
                        """),
                    logger: database.logger
                )
            }
            return try await appliedVersions(connection)
        }
        for migration in Self.migrations where !applied.contains(migration.version) {
            applied = try await database.transaction("migration \(migration.version)") { connection in
                try await lock(connection)
                // Another instance may have applied it while this one waited for the lock.
                let current = try await appliedVersions(connection)
                if current.contains(migration.version) { return current }
                let prefix = database.schema.map { "\"\($0)\"." } ?? ""
                for statement in migration.statements {
                    let sql = statement.replacingOccurrences(of: "{schema}", with: prefix)
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: database.logger)
                }
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: database.table("harness_migrations")) (version, name)
                    VALUES (\(migration.version), \(migration.name))
                    """,
                    logger: database.logger
                )
                return current.union([migration.version])
            }
        }
    }

    private func lock(_ connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: database.logger)
    }

    /// The applied versions; throws if one is newer than this code knows.
    private func appliedVersions(_ connection: PostgresConnection) async throws -> Set<Int> {
        var versions: Set<Int> = []
        let rows = try await connection.query(
            "SELECT version FROM \(unescaped: database.table("harness_migrations"))", logger: database.logger
        )
        for try await version in rows.decode(Int.self) { versions.insert(version) }
        if let newest = versions.max(), newest > Self.latestVersion {
            throw HarnessError(
                .storage, "the database was migrated by a newer Harness (version \(newest) > \(Self.latestVersion))"
            )
        }
        return versions
    }
}
