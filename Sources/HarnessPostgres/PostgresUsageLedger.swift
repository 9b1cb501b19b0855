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
public import struct Foundation.Date

/// The PostgreSQL ``HarnessCore/UsageLedger``. Sums are computed by the server.
///
/// Records are keyed by tenant and id, and recording is idempotent: recording the same id
/// again (a retry after a lost reply, say) stores nothing new rather than counting the call twice.
public struct PostgresUsageLedger: UsageLedger {
    let database: PostgresDatabase
    private let usage: String

    /// A ledger over `database`'s tables; call ``PostgresDatabase/migrate()`` first.
    public init(database: PostgresDatabase) {
        self.database = database
        usage = database.table("harness_usage")
    }

    public func record(_ record: UsageRecord) async throws {
        let u = record.usage
        _ = try await database.query("record usage", """
            INSERT INTO \(unescaped: usage) (
                tenant, id, api_key_id, conversation_id, model, provider,
                input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                cost_usd, latency_ms, status, created_at
            ) VALUES (
                \(record.tenant), \(record.id), \(record.apiKeyID), \(record.conversationID), \(record.model),
                \(record.provider),
                \(u.inputTokens), \(u.outputTokens), \(u.cacheReadTokens), \(u.cacheWriteTokens), \(u.reasoningTokens),
                \(record.costUSD), \(record.latencyMilliseconds), \(record.status),
                \(record.createdAt.timeIntervalSinceReferenceDate)
            )
            ON CONFLICT (tenant, id) DO NOTHING
            """)
    }

    public func aggregate(
        tenant: String, by grouping: UsageGrouping, since: Date?, until: Date?
    ) async throws -> [UsageAggregate] {
        let group: String
        switch grouping {
        case .apiKey:
            group = "coalesce(api_key_id, '')"
        case .model:
            group = "model"
        case .day:
            // The UTC day of the stored instant. The reference date is a UTC midnight; the
            // correction makes the floor exact where the division rounds up to a whole day.
            group = """
                to_char(date '2001-01-01' + (floor(created_at / 86400)
                    - CASE WHEN floor(created_at / 86400) * 86400 > created_at THEN 1 ELSE 0 END)::int, 'YYYY-MM-DD')
                """
        }
        let since = since?.timeIntervalSinceReferenceDate
        let until = until?.timeIntervalSinceReferenceDate
        let query: PostgresQuery = """
            SELECT \(unescaped: group) AS grp, count(*),
                   sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cache_read_tokens)::bigint,
                   sum(cache_write_tokens)::bigint, sum(reasoning_tokens)::bigint, sum(cost_usd)
            FROM \(unescaped: usage)
            WHERE tenant = \(tenant)
              AND (\(since)::float8 IS NULL OR created_at >= \(since))
              AND (\(until)::float8 IS NULL OR created_at < \(until))
            GROUP BY grp
            """
        let rows = try await database.query("aggregate usage", query)
        return try database.performSync("aggregate usage") {
            try rows.map { row in
                let (group, requests, input, output, cacheRead, cacheWrite, reasoning, cost) = try row.decode(
                    (String, Int, Int, Int, Int, Int, Int, Double).self
                )
                return UsageAggregate(
                    group: group, requests: requests,
                    usage: Usage(
                        inputTokens: input, outputTokens: output, cacheReadTokens: cacheRead,
                        cacheWriteTokens: cacheWrite, reasoningTokens: reasoning
                    ),
                    costUSD: cost
                )
            }
            .sorted { $0.group < $1.group }
        }
    }

    public func totalCost(tenant: String, apiKeyID: String?, since: Date?) async throws -> Double {
        let since = since?.timeIntervalSinceReferenceDate
        let query: PostgresQuery = """
            SELECT coalesce(sum(cost_usd), 0) FROM \(unescaped: usage)
            WHERE tenant = \(tenant)
              AND (\(apiKeyID)::text IS NULL OR api_key_id = \(apiKeyID))
              AND (\(since)::float8 IS NULL OR created_at >= \(since))
            """
        let rows = try await database.query("total cost", query)
        return try database.performSync("total cost") { try rows.first?.decode(Double.self) ?? 0 }
    }
}
