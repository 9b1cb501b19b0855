//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Harness
import PostgresNIO
public import struct Foundation.Date

/// The PostgreSQL ``HarnessCore/JobStore``, for workers on many machines.
///
/// A claim is one transaction: it selects the oldest claimable jobs `FOR UPDATE SKIP LOCKED`
/// (so concurrent claimers pass over each other's rows instead of waiting for them or taking
/// them) and updates them to running under the new lease. Job ids are unique across tenants:
/// ``heartbeat(jobID:owner:leaseDuration:now:)``, ``complete(jobID:owner:result:now:)`` and
/// ``fail(jobID:owner:error:retry:now:)`` name a job by id and lease owner alone.
public struct PostgresJobStore: JobStore {
    let database: PostgresDatabase
    private let jobs: String

    /// A store over `database`'s tables; call ``PostgresDatabase/migrate()`` first.
    public init(database: PostgresDatabase) {
        self.database = database
        jobs = database.table("harness_jobs")
    }

    private static let columns = """
        tenant, id, parent_id, kind, state, payload::text, result::text, error, attempts, lease_owner,
        lease_expires_at, created_at, updated_at
        """

    public func enqueue(_ job: Job) async throws {
        let payload = try database.performSync("enqueue") { try PostgresJSON.encode(job.payload) }
        let result = try database.performSync("enqueue") { try job.result.map { try PostgresJSON.encode($0) } }
        let rows = try await database.query("enqueue", """
            INSERT INTO \(unescaped: jobs) (
                tenant, id, parent_id, kind, state, payload, result, error, attempts, lease_owner,
                lease_expires_at, created_at, updated_at
            ) VALUES (
                \(job.tenant), \(job.id), \(job.parentID), \(job.kind), \(job.state.rawValue), \(payload)::json,
                \(result)::json, \(job.error), \(job.attempts), \(job.leaseOwner),
                \(job.leaseExpiresAt?.timeIntervalSinceReferenceDate), \(job.createdAt.timeIntervalSinceReferenceDate),
                \(job.updatedAt.timeIntervalSinceReferenceDate)
            )
            ON CONFLICT DO NOTHING
            RETURNING id
            """)
        if rows.isEmpty { throw HarnessError(.invalidArgument, "job '\(job.id)' already exists") }
    }

    public func claim(
        owner: String, kinds: [String]?, leaseDuration: Duration, limit: Int, now: Date
    ) async throws -> [Job] {
        guard limit > 0 else { return [] }
        let nowSeconds = now.timeIntervalSinceReferenceDate
        let expiry = now.addingTimeInterval(leaseDuration.timeInterval).timeIntervalSinceReferenceDate
        let claimed = try await database.transaction("claim") { connection in
            let picked = try await connection.query("""
                SELECT tenant, id FROM \(unescaped: jobs)
                WHERE (state = 'pending'
                       OR (state = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= \(nowSeconds))))
                  AND (\(kinds)::text[] IS NULL OR kind = ANY(\(kinds)))
                ORDER BY created_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
                """, logger: database.logger)
            var tenants: [String] = []
            var ids: [String] = []
            for try await (tenant, id) in picked.decode((String, String).self) {
                tenants.append(tenant)
                ids.append(id)
            }
            if ids.isEmpty { return [PostgresRow]() }
            return try await connection.query("""
                UPDATE \(unescaped: jobs) SET state = 'running', lease_owner = \(owner),
                    lease_expires_at = \(expiry), attempts = attempts + 1, updated_at = \(nowSeconds)
                WHERE (tenant, id) IN (SELECT * FROM unnest(\(tenants)::text[], \(ids)::text[]))
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger).collect()
        }
        return try decode(claimed).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func heartbeat(jobID: String, owner: String, leaseDuration: Duration, now: Date) async throws -> Bool {
        let expiry = now.addingTimeInterval(leaseDuration.timeInterval).timeIntervalSinceReferenceDate
        return try await updateLeased("heartbeat", jobID, owner, """
            lease_expires_at = \(expiry), updated_at = \(now.timeIntervalSinceReferenceDate)
            """)
    }

    public func complete(jobID: String, owner: String, result: JSONValue, now: Date) async throws -> Bool {
        let result = try database.performSync("complete") { try PostgresJSON.encode(result) }
        return try await updateLeased("complete", jobID, owner, """
            state = 'succeeded', result = \(result)::json, lease_owner = NULL, lease_expires_at = NULL,
            updated_at = \(now.timeIntervalSinceReferenceDate)
            """)
    }

    public func fail(jobID: String, owner: String, error: String, retry: Bool, now: Date) async throws -> Bool {
        let state = retry ? JobState.pending : JobState.failed
        return try await updateLeased("fail", jobID, owner, """
            state = \(state.rawValue), error = \(error), lease_owner = NULL, lease_expires_at = NULL,
            updated_at = \(now.timeIntervalSinceReferenceDate)
            """)
    }

    /// Applies `assignments` to the job if `owner` holds its lease; returns whether it did.
    private func updateLeased(
        _ operation: String, _ jobID: String, _ owner: String, _ assignments: PostgresQuery
    ) async throws -> Bool {
        // The assignments' binds come first; the WHERE clause's follow them.
        var binds = assignments.binds
        binds.append(jobID)
        binds.append(owner)
        let sql = """
            UPDATE \(jobs) SET \(assignments.sql)
            WHERE id = $\(binds.count - 1) AND state = 'running' AND lease_owner = $\(binds.count)
            RETURNING id
            """
        let rows = try await database.query(operation, PostgresQuery(unsafeSQL: sql, binds: binds))
        return !rows.isEmpty
    }

    public func get(id: String, tenant: String) async throws -> Job? {
        let rows = try await database.query("get job", """
            SELECT \(unescaped: Self.columns) FROM \(unescaped: jobs) WHERE tenant = \(tenant) AND id = \(id)
            """)
        return try decode(rows).first
    }

    public func list(tenant: String, state: JobState?, limit: Int) async throws -> [Job] {
        let rows = try await database.query("list jobs", """
            SELECT \(unescaped: Self.columns) FROM \(unescaped: jobs)
            WHERE tenant = \(tenant) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY created_at, id
            LIMIT \(max(0, limit))
            """)
        return try decode(rows)
    }

    private func decode(_ rows: [PostgresRow]) throws -> [Job] {
        try database.performSync("read jobs") {
            try rows.map { row in
                let (tenant, id, parentID, kind, state, payload, result, error, attempts, leaseOwner, leaseExpiresAt,
                     createdAt, updatedAt) = try row.decode(
                    (String, String, String?, String, String, String, String?, String?, Int, String?, Double?,
                     Double, Double).self
                )
                guard let state = JobState(rawValue: state) else {
                    throw HarnessError(.storage, "job '\(id)' has an unknown state '\(state)'")
                }
                return Job(
                    id: id, tenant: tenant, parentID: parentID, kind: kind, state: state,
                    payload: try PostgresJSON.decode(JSONValue.self, from: payload),
                    result: try result.map { try PostgresJSON.decode(JSONValue.self, from: $0) },
                    error: error, attempts: attempts, leaseOwner: leaseOwner,
                    leaseExpiresAt: leaseExpiresAt.map { Date(timeIntervalSinceReferenceDate: $0) },
                    createdAt: Date(timeIntervalSinceReferenceDate: createdAt),
                    updatedAt: Date(timeIntervalSinceReferenceDate: updatedAt)
                )
            }
        }
    }
}
