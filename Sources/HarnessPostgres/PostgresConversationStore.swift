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
public import Foundation

/// The PostgreSQL ``HarnessCore/ConversationStore``: conversation history shared by many instances.
///
/// An append is one statement, so one transaction: it upserts the conversation's row, which
/// locks it and takes the next sequence number from its turn counter, and inserts the turn.
/// Concurrent appends to one conversation queue on that row lock and get consecutive numbers;
/// appends to different conversations do not wait for each other.
///
/// Messages are stored as JSON text exactly as encoded, metadata as JSONB (searchable, see
/// ``search(tenant:metadataKey:value:limit:)``), and times as seconds since the reference date
/// in `DOUBLE PRECISION`, so that a `Date` reads back equal to the one written.
public struct PostgresConversationStore: ConversationStore {
    let database: PostgresDatabase
    private let conversations: String
    private let turns: String

    /// A store over `database`'s tables; call ``PostgresDatabase/migrate()`` first (or use
    /// ``PostgresDatabase/withDatabase(url:maximumConnections:migrate:logger:_:)``, which does).
    public init(database: PostgresDatabase) {
        self.database = database
        conversations = database.table("harness_conversations")
        turns = database.table("harness_turns")
    }

    @discardableResult
    public func append(_ turn: Turn, to conversationID: String, tenant: String) async throws -> Turn {
        let (message, usage, metadata) = try database.performSync("append") {
            (try PostgresJSON.encode(turn.message), try turn.usage.map { try PostgresJSON.encode($0) },
             try PostgresJSON.encode(turn.metadata))
        }
        let createdAt = turn.createdAt.timeIntervalSinceReferenceDate
        let rows = try await database.query("append", """
            WITH conversation AS (
                INSERT INTO \(unescaped: conversations) AS c (tenant, id, turn_count, created_at, updated_at)
                VALUES (\(tenant), \(conversationID), 1, \(createdAt), \(createdAt))
                ON CONFLICT (tenant, id) DO UPDATE
                    SET turn_count = c.turn_count + 1, updated_at = greatest(c.updated_at, excluded.updated_at)
                RETURNING c.turn_count - 1 AS sequence
            )
            INSERT INTO \(unescaped: turns)
                (tenant, conversation_id, sequence, message, model, usage, metadata, created_at)
            SELECT \(tenant), \(conversationID), conversation.sequence, \(message)::json, \(turn.model), \(usage)::json,
                   \(metadata)::jsonb, \(createdAt)
            FROM conversation
            RETURNING sequence
            """)
        guard let row = rows.first else { throw HarnessError(.storage, "append failed: no turn was stored") }
        var stored = turn
        stored.sequence = try database.performSync("append") { try row.decode(Int.self) }
        return stored
    }

    public func load(conversationID: String, tenant: String, last limit: Int?) async throws -> [Turn] {
        if let limit {
            let rows = try await database.query("load", """
                SELECT \(unescaped: Self.turnColumns) FROM \(unescaped: turns)
                WHERE tenant = \(tenant) AND conversation_id = \(conversationID)
                ORDER BY sequence DESC LIMIT \(max(0, limit))
                """)
            return try decodeTurns(rows).reversed()
        }
        let rows = try await database.query("load", """
            SELECT \(unescaped: Self.turnColumns) FROM \(unescaped: turns)
            WHERE tenant = \(tenant) AND conversation_id = \(conversationID)
            ORDER BY sequence
            """)
        return try decodeTurns(rows)
    }

    public func list(tenant: String, limit: Int, offset: Int) async throws -> [ConversationSummary] {
        let rows = try await database.query("list", """
            SELECT id, turn_count, created_at, updated_at FROM \(unescaped: conversations)
            WHERE tenant = \(tenant)
            ORDER BY updated_at DESC, id DESC
            LIMIT \(max(0, limit)) OFFSET \(max(0, offset))
            """)
        return try decodeSummaries(rows, tenant: tenant)
    }

    @discardableResult
    public func delete(conversationID: String, tenant: String) async throws -> Bool {
        // Its turns go with it (ON DELETE CASCADE), in the same statement.
        let rows = try await database.query("delete", """
            DELETE FROM \(unescaped: conversations) WHERE tenant = \(tenant) AND id = \(conversationID) RETURNING id
            """)
        return !rows.isEmpty
    }

    // MARK: Beyond the port

    /// Up to `limit` turns after `afterSequence` (from the start when `nil`), oldest first: pass
    /// the last sequence number of one page to get the next.
    public func page(conversationID: String, tenant: String, afterSequence: Int?, limit: Int) async throws -> [Turn] {
        let rows = try await database.query("page", """
            SELECT \(unescaped: Self.turnColumns) FROM \(unescaped: turns)
            WHERE tenant = \(tenant) AND conversation_id = \(conversationID) AND sequence > \(afterSequence ?? -1)
            ORDER BY sequence LIMIT \(max(0, limit))
            """)
        return try decodeTurns(rows)
    }

    /// The tenant's conversations with at least one turn whose metadata maps `metadataKey` to
    /// `value`, most recently updated first.
    public func search(
        tenant: String, metadataKey: String, value: String, limit: Int
    ) async throws -> [ConversationSummary] {
        let rows = try await database.query("search", """
            SELECT c.id, c.turn_count, c.created_at, c.updated_at FROM \(unescaped: conversations) c
            WHERE c.tenant = \(tenant) AND EXISTS (
                SELECT 1 FROM \(unescaped: turns) t
                WHERE t.tenant = c.tenant AND t.conversation_id = c.id
                  AND t.metadata @> jsonb_build_object(\(metadataKey)::text, \(value)::text)
            )
            ORDER BY c.updated_at DESC, c.id DESC
            LIMIT \(max(0, limit))
            """)
        return try decodeSummaries(rows, tenant: tenant)
    }

    /// A whole conversation as JSON: a ``ConversationExport`` encoded with `JSONEncoder` (dates
    /// as seconds since the reference date, exact), read from one snapshot.
    ///
    /// - Throws: `HarnessError(.notFound)` if the tenant has no such conversation.
    public func export(conversationID: String, tenant: String) async throws -> Data {
        let rows = try await database.query("export", """
            SELECT c.created_at, c.updated_at,
                   t.sequence, t.message::text, t.model, t.usage::text, t.metadata::text, t.created_at
            FROM \(unescaped: conversations) c
            LEFT JOIN \(unescaped: turns) t ON t.tenant = c.tenant AND t.conversation_id = c.id
            WHERE c.tenant = \(tenant) AND c.id = \(conversationID)
            ORDER BY t.sequence
            """)
        guard let first = rows.first else {
            throw HarnessError(.notFound, "no conversation '\(conversationID)' for this tenant")
        }
        typealias Columns = (Double, Double, Int?, String?, String?, String?, String?, Double?)
        return try database.performSync("export") {
            let header = try first.decode(Columns.self)
            var exported = ConversationExport(
                id: conversationID, tenant: tenant,
                createdAt: Date(timeIntervalSinceReferenceDate: header.0),
                updatedAt: Date(timeIntervalSinceReferenceDate: header.1), turns: []
            )
            for row in rows {
                let (_, _, sequence, message, model, usage, metadata, createdAt) = try row.decode(Columns.self)
                // A conversation without turns joins to one row of NULLs.
                guard let sequence, let message, let metadata, let createdAt else { continue }
                exported.turns.append(try Self.turn(sequence, message, model, usage, metadata, createdAt))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(exported)
        }
    }

    // MARK: Decoding

    private static let turnColumns = "sequence, message::text, model, usage::text, metadata::text, created_at"

    private func decodeTurns(_ rows: [PostgresRow]) throws -> [Turn] {
        try database.performSync("load") {
            try rows.map { row in
                let (sequence, message, model, usage, metadata, createdAt) = try row.decode(
                    (Int, String, String?, String?, String, Double).self
                )
                return try Self.turn(sequence, message, model, usage, metadata, createdAt)
            }
        }
    }

    private static func turn(
        _ sequence: Int, _ message: String, _ model: String?, _ usage: String?, _ metadata: String, _ createdAt: Double
    ) throws -> Turn {
        Turn(
            sequence: sequence,
            message: try PostgresJSON.decode(Message.self, from: message),
            model: model,
            usage: try usage.map { try PostgresJSON.decode(Usage.self, from: $0) },
            createdAt: Date(timeIntervalSinceReferenceDate: createdAt),
            metadata: try PostgresJSON.decode([String: String].self, from: metadata)
        )
    }

    private func decodeSummaries(_ rows: [PostgresRow], tenant: String) throws -> [ConversationSummary] {
        try database.performSync("list") {
            try rows.map { row in
                let (id, count, createdAt, updatedAt) = try row.decode((String, Int, Double, Double).self)
                return ConversationSummary(
                    id: id, tenant: tenant, turnCount: count,
                    createdAt: Date(timeIntervalSinceReferenceDate: createdAt),
                    updatedAt: Date(timeIntervalSinceReferenceDate: updatedAt)
                )
            }
        }
    }
}
