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

extension SQLiteConversationStore {
    /// The tenant's conversations that have a turn whose metadata maps `metadataKey` to
    /// `value`, most recently updated first.
    public func search(tenant: String, metadataKey: String, value: String, limit: Int) async throws -> [ConversationSummary] {
        try await database.read("searching conversations") { db in
            let rows = try Row.fetchAll(
                db,
                sql: Self.summarySelect + """
                    WHERE c.tenant = ? AND EXISTS (
                        SELECT 1 FROM turn_metadata m
                        WHERE m.tenant = c.tenant AND m.key = ? AND m.value = ? AND m.conversation_id = c.id
                    )
                    ORDER BY c.updated_at DESC, c.id DESC LIMIT ?
                    """,
                arguments: [tenant, metadataKey, value, max(0, limit)]
            )
            return try rows.map(Self.summary)
        }
    }

    /// The conversation as one JSON document, for people and other tools:
    /// `{"id", "tenant", "createdAt", "updatedAt", "turns": [...]}`, turns oldest first in
    /// the shape of ``Turn``'s `Codable` form, times as ISO 8601 with fractional seconds.
    ///
    /// - Throws: ``HarnessError`` with code `notFound` when the tenant has no such conversation.
    public func export(conversationID: String, tenant: String) async throws -> Data {
        let export = try await database.read("exporting a conversation") { db -> ConversationExport? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: Self.summarySelect + "WHERE c.tenant = ? AND c.id = ?",
                    arguments: [tenant, conversationID]
                )
            else { return nil }
            let summary = try Self.summary(row)
            let turns = try Row.fetchAll(
                db,
                sql: "SELECT * FROM turns WHERE tenant = ? AND conversation_id = ? ORDER BY sequence",
                arguments: [tenant, conversationID]
            ).map(Self.turn)
            return ConversationExport(
                id: summary.id, tenant: summary.tenant, createdAt: summary.createdAt, updatedAt: summary.updatedAt, turns: turns
            )
        }
        guard let export else {
            throw HarnessError(.notFound, "no conversation '\(conversationID)' in this tenant")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        do {
            return try encoder.encode(export)
        } catch {
            throw HarnessError(.storage, "the conversation could not be encoded as JSON")
        }
    }
}

/// A conversation as exported.
struct ConversationExport: Sendable, Encodable {
    var id: String
    var tenant: String
    var createdAt: Date
    var updatedAt: Date
    var turns: [Turn]
}
