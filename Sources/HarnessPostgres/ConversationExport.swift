//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
public import struct Foundation.Date

/// A whole conversation, as ``PostgresConversationStore/export(conversationID:tenant:)`` writes
/// it. Decode the exported bytes with `JSONDecoder()` (default date strategy).
public struct ConversationExport: Sendable, Hashable, Codable {
    /// The format's version: 1.
    public var formatVersion: Int
    /// The conversation's id.
    public var id: String
    /// The tenant owning it.
    public var tenant: String
    /// When its first turn was appended.
    public var createdAt: Date
    /// The newest `createdAt` of its turns.
    public var updatedAt: Date
    /// Every turn, oldest first.
    public var turns: [Turn]

    /// Creates an export.
    public init(formatVersion: Int = 1, id: String, tenant: String, createdAt: Date, updatedAt: Date, turns: [Turn]) {
        self.formatVersion = formatVersion
        self.id = id
        self.tenant = tenant
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.turns = turns
    }
}
