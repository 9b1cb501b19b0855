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
import GRDBSQLite
import Synchronization
public import HarnessCore

/// The ``UsageLedger`` on SQLite: one row of `usage_records` per model call, each kind of
/// token in its own column, summed in SQL.
///
/// A record is identified by its tenant and id: recording the same id again (a retry after
/// an error whose outcome was unknown, say) keeps the first row and does not count twice.
public struct SQLiteUsageLedger: UsageLedger {
    /// The database.
    public let database: SQLiteDatabase

    /// The biggest batch written in the background (see ``record(contentsOf:)``).
    public let backgroundLimit: Int
    private let counts = BatchCounts()

    /// A ledger in `database`, which other stores may share.
    public init(database: SQLiteDatabase, backgroundLimit: Int = 1_000) {
        self.database = database
        self.backgroundLimit = backgroundLimit
    }

    public func record(_ record: UsageRecord) async throws {
        try await database.write("recording usage") { db in try Self.insert([record], into: db) }
    }

    /// Records a batch — a gateway's usage of the last 100 ms, say. A batch of at most
    /// ``backgroundLimit`` records is written at the lowest priority, on the
    /// ``BackgroundWriteThread``, in transactions of at most ``backgroundChunk`` rows, so that
    /// it gives way to the requests being served; a bigger one at normal priority, in one
    /// transaction.
    ///
    /// The limit is what keeps the ledger up with any load: a thread of idle priority gets
    /// almost no CPU while the machine is saturated, so its writes fall behind, the batches
    /// the recorder hands over grow (it waits for each write before it takes the next), and
    /// once past the limit they are written at normal priority. Chunks bound how long another
    /// writer can wait behind a starved transaction (the database has one writer).
    ///
    /// A batch is not one transaction: when a write fails, the chunks before it stay written.
    /// Recording the batch again is safe (a record id already stored is skipped), which is
    /// what the gateway's recorder does.
    public func record(contentsOf records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        guard records.count <= backgroundLimit else {
            try await database.write("recording usage") { db in try Self.insert(records, into: db) }
            counts.foreground.add(records.count, ordering: .relaxed)
            return
        }
        var index = 0
        while index < records.count {
            let chunk = Array(records[index..<min(index + Self.backgroundChunk, records.count)])
            try await database.backgroundWrite("recording usage") { db in try Self.insert(chunk, into: db) }
            index += chunk.count
            counts.background.add(chunk.count, ordering: .relaxed)
        }
    }

    /// The most rows one background transaction writes (about 1 ms of CPU here).
    public static let backgroundChunk = 128

    /// Rows written by batches in the background and at normal priority, for tests and
    /// diagnostics.
    var rowsWritten: (background: Int, foreground: Int) {
        (counts.background.load(ordering: .relaxed), counts.foreground.load(ordering: .relaxed))
    }

    static func insert(_ records: [UsageRecord], into db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO usage_records (
                tenant, id, api_key_id, conversation_id, model, provider,
                input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                cost_usd, latency_ms, status, created_at
            ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, id) DO NOTHING
            """)
        // The values as `DatabaseValue`s, each converted by its concrete type as GRDB would,
        // bound to the prepared statement through SQLite's own calls: GRDB's arguments
        // (built through an unspecialized sequence, then bound in nested closures) cost
        // as much as SQLite's insert itself at gateway rates.
        let handle = statement.sqliteStatement
        var values: [DatabaseValue] = []
        values.reserveCapacity(15)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        for record in records {
            let usage = record.usage
            values.removeAll(keepingCapacity: true)
            values.append(record.tenant.databaseValue)
            values.append(record.id.databaseValue)
            values.append(record.apiKeyID?.databaseValue ?? .null)
            values.append(record.conversationID?.databaseValue ?? .null)
            values.append(record.model.databaseValue)
            values.append(record.provider.databaseValue)
            values.append(usage.inputTokens.databaseValue)
            values.append(usage.outputTokens.databaseValue)
            values.append(usage.cacheReadTokens.databaseValue)
            values.append(usage.cacheWriteTokens.databaseValue)
            values.append(usage.reasoningTokens.databaseValue)
            values.append(record.costUSD.databaseValue)
            values.append(record.latencyMilliseconds.databaseValue)
            values.append(record.status.databaseValue)
            values.append(StoredValue.time(record.createdAt).databaseValue)
            var code = sqlite3_reset(handle)
            for (offset, value) in values.enumerated() where code == SQLITE_OK {
                code = bind(value, at: Int32(offset + 1), to: handle)
            }
            if code == SQLITE_OK { code = sqlite3_step(handle) }
            guard code == SQLITE_DONE else {
                let message = db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
            }
        }
    }

    /// Binds one value to parameter `index` (1-based) of a prepared statement; SQLite copies
    /// text and blobs (`SQLITE_TRANSIENT`).
    private static func bind(_ value: DatabaseValue, at index: Int32, to handle: OpaquePointer) -> Int32 {
        switch value.storage {
        case .null:
            return sqlite3_bind_null(handle, index)
        case .int64(let n):
            return sqlite3_bind_int64(handle, index, n)
        case .double(let d):
            return sqlite3_bind_double(handle, index, d)
        case .string(var text):
            return text.withUTF8 { bytes in
                // An empty buffer may have no address, which SQLite would bind as NULL.
                guard let base = bytes.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, transient) }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(handle, index, $0, Int32(bytes.count), transient)
                }
            }
        case .blob(let data):
            return data.withUnsafeBytes { bytes in
                sqlite3_bind_blob(handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), transient)
            }
        }
    }

    /// SQLite's `SQLITE_TRANSIENT` (a macro Swift does not import): SQLite copies the bytes.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

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

/// Rows a ledger wrote in the background and at normal priority.
final class BatchCounts: Sendable {
    let background = Atomic<Int>(0)
    let foreground = Atomic<Int>(0)
}
