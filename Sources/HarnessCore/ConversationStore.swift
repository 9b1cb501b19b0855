//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import struct Foundation.Date

/// One stored turn of a conversation: a message and what is known about how it came to be.
public struct Turn: Sendable, Hashable, Codable {
    /// Position in the conversation, from 0, assigned by the store on append.
    public var sequence: Int
    /// The message.
    public var message: Message
    /// The model that wrote it (assistant turns).
    public var model: String?
    /// Tokens used to produce it (assistant turns).
    public var usage: Usage?
    /// When it was appended.
    public var createdAt: Date
    /// Free-form metadata.
    public var metadata: [String: String]

    public init(
        sequence: Int = 0,
        message: Message,
        model: String? = nil,
        usage: Usage? = nil,
        createdAt: Date = Date(),
        metadata: [String: String] = [:]
    ) {
        self.sequence = sequence
        self.message = message
        self.model = model
        self.usage = usage
        self.createdAt = createdAt
        self.metadata = metadata
    }
}

/// A summary of a stored conversation.
public struct ConversationSummary: Sendable, Hashable, Codable {
    public var id: String
    public var tenant: String
    public var turnCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, tenant: String, turnCount: Int, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.tenant = tenant
        self.turnCount = turnCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Durable conversation history, per tenant.
///
/// ## Implementation requirements
/// - `append` is atomic: after it returns, the turn is stored whole; if it throws, nothing
///   of it is. Appends to one conversation get consecutive sequence numbers in a total order.
/// - Loading returns exactly what was appended, in order.
/// - A tenant never sees another tenant's conversations.
public protocol ConversationStore: Sendable {
    /// Appends `turn` to the conversation, creating it if needed, and returns the turn as
    /// stored (with its sequence number).
    @discardableResult
    func append(_ turn: Turn, to conversationID: String, tenant: String) async throws -> Turn

    /// The last `limit` turns (all when `nil`), oldest first.
    func load(conversationID: String, tenant: String, last limit: Int?) async throws -> [Turn]

    /// The tenant's conversations, most recently updated first.
    func list(tenant: String, limit: Int, offset: Int) async throws -> [ConversationSummary]

    /// Deletes a conversation; returns whether it existed.
    @discardableResult
    func delete(conversationID: String, tenant: String) async throws -> Bool
}
