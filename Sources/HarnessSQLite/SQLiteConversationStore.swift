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
public import HarnessCore

/// The ``ConversationStore`` on SQLite: conversations and their turns in one database file.
///
/// A turn is one row of `turns`: its message as JSON (every content part: text, images,
/// tool calls, tool results), the model, each kind of token in its own column, metadata as
/// JSON (and, for ``search(tenant:metadataKey:value:limit:)``, one row per entry in
/// `turn_metadata`), and its time. An append creates or touches the conversation, numbers
/// the turn one past the highest sequence stored, and inserts it, all in one savepoint.
/// Writes are serialized (across processes too), so appends to one conversation get
/// consecutive numbers in a total order, the order in which the appends were called.
///
/// Appends use group commit: those called while a transaction commits wait, and the next
/// transaction makes all of them, so that concurrent appends share one sync to disk. An
/// append returns once its transaction is on disk (see
/// ``SQLiteDatabase/Configuration/synchronous``). An append that fails rolls back alone;
/// one cancelled before its transaction began is not made and throws `CancellationError`.
/// A caller that awaits each append before the next cannot share a transaction with itself:
/// group commit helps concurrent appends only.
///
/// Every query filters on the tenant: the same conversation id in two tenants names two
/// conversations.
public struct SQLiteConversationStore: ConversationStore {
    /// The database.
    public let database: SQLiteDatabase

    /// A store in `database`, which other stores may share.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    @discardableResult
    public func append(_ turn: Turn, to conversationID: String, tenant: String) async throws -> Turn {
        let messageJSON: String
        let metadataJSON: String
        do {
            messageJSON = try StoredValue.json(turn.message)
            metadataJSON = turn.metadata.isEmpty ? "{}" : try StoredValue.json(turn.metadata)
        } catch {
            throw HarnessError(.invalidArgument, "the turn could not be encoded as JSON")
        }
        return try await database.groupedWrite("appending a turn") { db in
            // Cached statements: an append is compiled once per connection, not each time
            // (compiling was a large part of the writer's time per append).
            let time = StoredValue.time(turn.createdAt)
            try db.cachedStatement(sql: Self.touchConversation).execute(arguments: [tenant, conversationID, time, time])
            let sequence = try Int.fetchOne(
                db.cachedStatement(sql: Self.nextSequence),
                arguments: [tenant, conversationID]
            ) ?? 0
            let usage = turn.usage
            try db.cachedStatement(sql: Self.insertTurn).execute(
                arguments: [
                    tenant, conversationID, sequence, turn.message.role.rawValue, messageJSON, turn.model,
                    usage?.inputTokens, usage?.outputTokens, usage?.cacheReadTokens, usage?.cacheWriteTokens,
                    usage?.reasoningTokens, metadataJSON, time,
                ]
            )
            if !turn.metadata.isEmpty {
                let insertMetadata = try db.cachedStatement(sql: Self.insertMetadata)
                for (key, value) in turn.metadata {
                    try insertMetadata.execute(arguments: [tenant, conversationID, sequence, key, value])
                }
            }
            var stored = turn
            stored.sequence = sequence
            return stored
        }
    }

    public func load(conversationID: String, tenant: String, last limit: Int?) async throws -> [Turn] {
        try await database.read("loading a conversation") { db in
            let rows: [Row]
            if let limit {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM (
                            SELECT * FROM turns WHERE tenant = ? AND conversation_id = ?
                            ORDER BY sequence DESC LIMIT ?
                        ) ORDER BY sequence
                        """,
                    arguments: [tenant, conversationID, max(0, limit)]
                )
            } else {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM turns WHERE tenant = ? AND conversation_id = ? ORDER BY sequence",
                    arguments: [tenant, conversationID]
                )
            }
            return try rows.map(Self.turn)
        }
    }

    public func list(tenant: String, limit: Int, offset: Int) async throws -> [ConversationSummary] {
        try await database.read("listing conversations") { db in
            let rows = try Row.fetchAll(
                db,
                sql: Self.summarySelect + """
                    WHERE c.tenant = ?
                    ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?
                    """,
                arguments: [tenant, max(0, limit), max(0, offset)]
            )
            return try rows.map(Self.summary)
        }
    }

    @discardableResult
    public func delete(conversationID: String, tenant: String) async throws -> Bool {
        try await database.write("deleting a conversation") { db in
            // The foreign keys cascade too; deleting explicitly does not depend on them.
            let arguments: StatementArguments = [tenant, conversationID]
            try db.execute(sql: "DELETE FROM turn_metadata WHERE tenant = ? AND conversation_id = ?", arguments: arguments)
            try db.execute(sql: "DELETE FROM turns WHERE tenant = ? AND conversation_id = ?", arguments: arguments)
            try db.execute(sql: "DELETE FROM conversations WHERE tenant = ? AND id = ?", arguments: arguments)
            return db.changesCount > 0
        }
    }

    /// Up to `limit` turns with sequence numbers after `afterSequence` (from the first when
    /// `nil`), oldest first: pass the last sequence of a page to get the next.
    public func page(conversationID: String, tenant: String, afterSequence: Int? = nil, limit: Int) async throws -> [Turn] {
        try await database.read("paging through a conversation") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM turns WHERE tenant = ? AND conversation_id = ? AND sequence > ?
                    ORDER BY sequence LIMIT ?
                    """,
                arguments: [tenant, conversationID, afterSequence ?? -1, max(0, limit)]
            )
            return try rows.map(Self.turn)
        }
    }

    // MARK: - Statements of an append

    static let touchConversation = """
        INSERT INTO conversations (tenant, id, created_at, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (tenant, id) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)
        """

    static let nextSequence = """
        SELECT COALESCE(MAX(sequence) + 1, 0) FROM turns WHERE tenant = ? AND conversation_id = ?
        """

    static let insertTurn = """
        INSERT INTO turns (
            tenant, conversation_id, sequence, role, message_json, model,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
            metadata_json, created_at
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    static let insertMetadata = """
        INSERT INTO turn_metadata (tenant, conversation_id, sequence, key, value) VALUES (?, ?, ?, ?, ?)
        """

    // MARK: - Rows

    /// The columns of a ``ConversationSummary``, from `conversations` as `c`.
    static let summarySelect = """
        SELECT c.id, c.tenant, c.created_at, c.updated_at,
            (SELECT COUNT(*) FROM turns t WHERE t.tenant = c.tenant AND t.conversation_id = c.id) AS turn_count
        FROM conversations c

        """

    static func summary(_ row: Row) throws -> ConversationSummary {
        ConversationSummary(
            id: try row.required("id", in: "conversations"),
            tenant: try row.required("tenant", in: "conversations"),
            turnCount: try row.required("turn_count", in: "conversations"),
            createdAt: StoredValue.date(try row.required("created_at", in: "conversations")),
            updatedAt: StoredValue.date(try row.required("updated_at", in: "conversations"))
        )
    }

    static func turn(_ row: Row) throws -> Turn {
        let sequence: Int = try row.required("sequence", in: "turns")
        let messageJSON: String = try row.required("message_json", in: "turns")
        let metadataJSON: String = try row.required("metadata_json", in: "turns")
        let message = try StoredValue.decode(Message.self, json: messageJSON, "the message of turn \(sequence)")
        let metadata = try StoredValue.decode([String: String].self, json: metadataJSON, "the metadata of turn \(sequence)")
        var usage: Usage?
        if let input: Int = try row.optional("input_tokens", in: "turns") {
            usage = Usage(
                inputTokens: input,
                outputTokens: try row.optional("output_tokens", in: "turns") ?? 0,
                cacheReadTokens: try row.optional("cache_read_tokens", in: "turns") ?? 0,
                cacheWriteTokens: try row.optional("cache_write_tokens", in: "turns") ?? 0,
                reasoningTokens: try row.optional("reasoning_tokens", in: "turns") ?? 0
            )
        }
        return Turn(
            sequence: sequence,
            message: message,
            model: try row.optional("model", in: "turns"),
            usage: usage,
            createdAt: StoredValue.date(try row.required("created_at", in: "turns")),
            metadata: metadata
        )
    }
}
