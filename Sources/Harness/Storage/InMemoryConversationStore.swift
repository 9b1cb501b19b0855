//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Synchronization
import struct Foundation.Date

/// The in-memory ConversationStore: for tests and one-process use. Appends are atomic
/// and totally ordered per conversation; tenants are kept apart by key.
public final class InMemoryConversationStore: ConversationStore {
    struct Key: Hashable {
        var tenant: String
        var id: String
    }

    struct Conversation {
        var turns: [Turn] = []
        var createdAt: Date
        var updatedAt: Date
    }

    private let conversations = Mutex<[Key: Conversation]>([:])

    public init() {}

    @discardableResult
    public func append(_ turn: Turn, to conversationID: String, tenant: String) async throws -> Turn {
        conversations.withLock { map in
            let key = Key(tenant: tenant, id: conversationID)
            var conversation = map[key] ?? Conversation(createdAt: turn.createdAt, updatedAt: turn.createdAt)
            var stored = turn
            stored.sequence = conversation.turns.count
            conversation.turns.append(stored)
            conversation.updatedAt = max(conversation.updatedAt, turn.createdAt)
            map[key] = conversation
            return stored
        }
    }

    public func load(conversationID: String, tenant: String, last limit: Int?) async throws -> [Turn] {
        conversations.withLock { map in
            guard let turns = map[Key(tenant: tenant, id: conversationID)]?.turns else { return [] }
            guard let limit else { return turns }
            return Array(turns.suffix(max(0, limit)))
        }
    }

    public func list(tenant: String, limit: Int, offset: Int) async throws -> [ConversationSummary] {
        conversations.withLock { map in
            let all = map.filter { $0.key.tenant == tenant }
                .map { key, c in
                    ConversationSummary(
                        id: key.id, tenant: tenant, turnCount: c.turns.count,
                        createdAt: c.createdAt, updatedAt: c.updatedAt
                    )
                }
                .sorted { ($0.updatedAt, $0.id) > ($1.updatedAt, $1.id) }
            return Array(all.dropFirst(max(0, offset)).prefix(max(0, limit)))
        }
    }

    @discardableResult
    public func delete(conversationID: String, tenant: String) async throws -> Bool {
        conversations.withLock { $0.removeValue(forKey: Key(tenant: tenant, id: conversationID)) != nil }
    }
}
