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

/// The ``UsageLedger`` on SQLite: one row of `usage_records` per model call, each kind of
/// token in its own column, summed in SQL.
///
/// A record is identified by its tenant and id: recording the same id again (a retry after
/// an error whose outcome was unknown, say) keeps the first row and does not count twice.
public struct SQLiteUsageLedger: UsageLedger {
    /// The database.
    public let database: SQLiteDatabase

    /// A ledger in `database`, which other stores may share.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func record(_ record: UsageRecord) async throws {
        try await self.record(contentsOf: [record])
    }

    /// Every record in one transaction: one commit (one fsync) for the batch, made on a
    /// thread of the lowest priority (``BackgroundWriteThread``), so that a gateway's usage
    /// batches give way to the requests it is serving.
    public func record(contentsOf records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        try await database.backgroundWrite("recording usage") { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO usage_records (
                    tenant, id, api_key_id, conversation_id, model, provider,
                    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                    cost_usd, latency_ms, status, created_at
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, id) DO NOTHING
                """)
            for record in records {
                let usage = record.usage
                try statement.execute(arguments: [
                    record.tenant, record.id, record.apiKeyID, record.conversationID, record.model, record.provider,
                    usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens,
                    usage.reasoningTokens, record.costUSD, record.latencyMilliseconds, record.status,
                    StoredValue.time(record.createdAt),
                ])
            }
        }
    }

    public func aggregate(
        tenant: String, by grouping: UsageGrouping, since: Date?, until: Date?
    ) async throws -> [UsageAggregate] {
        var sql = """
            SELECT \(Self.groupExpression(grouping)) AS grp, COUNT(*) AS requests,
                SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
                SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens,
                SUM(reasoning_tokens) AS reasoning_tokens, TOTAL(cost_usd) AS cost_usd
            FROM usage_records WHERE tenant = ?
            """
        var arguments: StatementArguments = [tenant]
        if let since {
            sql += " AND created_at >= ?"
            arguments += [StoredValue.time(since)]
        }
        if let until {
            sql += " AND created_at < ?"
            arguments += [StoredValue.time(until)]
        }
        sql += " GROUP BY grp ORDER BY grp"
        let query = sql
        let queryArguments = arguments
        let aggregates = try await database.read("aggregating usage") { db in
            try Row.fetchAll(db, sql: query, arguments: queryArguments).map { row in
                UsageAggregate(
                    group: try row.required("grp", in: "usage_records"),
                    requests: try row.required("requests", in: "usage_records"),
                    usage: Usage(
                        inputTokens: try row.required("input_tokens", in: "usage_records"),
                        outputTokens: try row.required("output_tokens", in: "usage_records"),
                        cacheReadTokens: try row.required("cache_read_tokens", in: "usage_records"),
                        cacheWriteTokens: try row.required("cache_write_tokens", in: "usage_records"),
                        reasoningTokens: try row.required("reasoning_tokens", in: "usage_records")
                    ),
                    costUSD: try row.required("cost_usd", in: "usage_records")
                )
            }
        }
        // SQLite orders by bytes; sort as Swift compares strings, as the in-memory ledger does.
        return aggregates.sorted { $0.group < $1.group }
    }

    public func totalCost(tenant: String, apiKeyID: String?, since: Date?) async throws -> Double {
        var sql = "SELECT TOTAL(cost_usd) FROM usage_records WHERE tenant = ?"
        var arguments: StatementArguments = [tenant]
        if let apiKeyID {
            sql += " AND api_key_id = ?"
            arguments += [apiKeyID]
        }
        if let since {
            sql += " AND created_at >= ?"
            arguments += [StoredValue.time(since)]
        }
        let query = sql
        let queryArguments = arguments
        return try await database.read("totalling usage cost") { db in
            try Double.fetchOne(db, sql: query, arguments: queryArguments) ?? 0
        }
    }

    /// The SQL value a record is grouped by.
    static func groupExpression(_ grouping: UsageGrouping) -> String {
        switch grouping {
        case .apiKey:
            return "COALESCE(api_key_id, '')"
        case .model:
            return "model"
        case .day:
            // The UTC day of the Unix time rounded down to the second (SQLite would round
            // to the millisecond, which can move a time just before midnight to the next day).
            let unix = "(created_at + 978307200.0)"
            let floored = "(CAST(\(unix) AS INTEGER) - (\(unix) < CAST(\(unix) AS INTEGER)))"
            return "strftime('%Y-%m-%d', \(floored), 'unixepoch')"
        }
    }
}
