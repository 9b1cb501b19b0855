//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import struct Foundation.Date

/// One model call, as billed: who, what, how many tokens of each kind, what it cost.
public struct UsageRecord: Sendable, Hashable, Codable {
    public var id: String
    public var tenant: String
    /// The virtual key that made the call, if any.
    public var apiKeyID: String?
    public var conversationID: String?
    public var model: String
    public var provider: String
    public var usage: Usage
    public var costUSD: Double
    public var latencyMilliseconds: Int
    /// `ok`, or the error code.
    public var status: String
    public var createdAt: Date

    public init(
        id: String, tenant: String, apiKeyID: String? = nil, conversationID: String? = nil, model: String,
        provider: String, usage: Usage, costUSD: Double, latencyMilliseconds: Int, status: String = "ok",
        createdAt: Date = Date()
    ) {
        self.id = id
        self.tenant = tenant
        self.apiKeyID = apiKeyID
        self.conversationID = conversationID
        self.model = model
        self.provider = provider
        self.usage = usage
        self.costUSD = costUSD
        self.latencyMilliseconds = latencyMilliseconds
        self.status = status
        self.createdAt = createdAt
    }
}

/// How usage is grouped in reports.
public enum UsageGrouping: String, Sendable, Hashable, Codable {
    /// By virtual key (calls without a key are grouped under "").
    case apiKey
    case model
    /// By UTC calendar day, `YYYY-MM-DD`.
    case day
}

/// Usage summed over a group.
public struct UsageAggregate: Sendable, Hashable, Codable {
    /// The group's value: a key id, a model name or a day.
    public var group: String
    public var requests: Int
    public var usage: Usage
    public var costUSD: Double

    public init(group: String, requests: Int, usage: Usage, costUSD: Double) {
        self.group = group
        self.requests = requests
        self.usage = usage
        self.costUSD = costUSD
    }
}

/// A durable record of every model call, for budgets and reports.
///
/// ## Implementation requirements
/// - `record` is atomic; records are never lost once it returns.
/// - Queries see only the given tenant's records.
public protocol UsageLedger: Sendable {
    func record(_ record: UsageRecord) async throws

    /// Records several model calls at once (one transaction where the store has them), each
    /// as ``record(_:)`` would.
    func record(contentsOf records: [UsageRecord]) async throws
    /// Sums per group for records with `since <= createdAt < until`, groups sorted ascending.
    func aggregate(tenant: String, by grouping: UsageGrouping, since: Date?, until: Date?) async throws -> [UsageAggregate]
    /// Total cost of the tenant's records (of one key when `apiKeyID` is given) since `since`.
    func totalCost(tenant: String, apiKeyID: String?, since: Date?) async throws -> Double
}

extension UsageLedger {
    /// One ``record(_:)`` per record, in order.
    public func record(contentsOf records: [UsageRecord]) async throws {
        for r in records { try await record(r) }
    }
}
