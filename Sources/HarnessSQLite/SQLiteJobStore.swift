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
import Harness
public import HarnessCore

/// The ``JobStore`` on SQLite: one row of `jobs` per job.
///
/// A claim is one write transaction: it selects the claimable jobs (pending, or running
/// with an expired lease), oldest first, and leases them. Write transactions are
/// serialized, across processes too, so no two claimers ever get the same job. Heartbeat,
/// complete and fail update the row only while it is running under the caller's lease.
public struct SQLiteJobStore: JobStore {
    /// The database.
    public let database: SQLiteDatabase

    /// A store in `database`, which other stores may share.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Stores `job`.
    ///
    /// - Throws: ``HarnessError`` with code `invalidArgument` when a job with this id exists.
    public func enqueue(_ job: Job) async throws {
        let payloadJSON: String
        let resultJSON: String?
        do {
            payloadJSON = try StoredValue.json(job.payload)
            resultJSON = try job.result.map(StoredValue.json)
        } catch {
            throw HarnessError(.invalidArgument, "the job's payload or result could not be encoded as JSON")
        }
        do {
            try await database.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO jobs (
                            id, tenant, parent_id, kind, state, payload_json, result_json, error, attempts,
                            lease_owner, lease_expires_at, created_at, updated_at
                        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        job.id, job.tenant, job.parentID, job.kind, job.state.rawValue, payloadJSON, resultJSON,
                        job.error, job.attempts, job.leaseOwner, job.leaseExpiresAt.map(StoredValue.time),
                        StoredValue.time(job.createdAt), StoredValue.time(job.updatedAt),
                    ]
                )
            }
        } catch where SQLiteDatabase.isUniquenessViolation(error) {
            throw HarnessError(.invalidArgument, "job '\(job.id)' already exists")
        } catch {
            throw SQLiteDatabase.storageError(error, "enqueueing a job")
        }
    }

    public func claim(owner: String, kinds: [String]?, leaseDuration: Duration, limit: Int, now: Date) async throws -> [Job] {
        if limit <= 0 || kinds?.isEmpty == true { return [] }
        let expiresAt = now.addingTimeInterval(leaseDuration.timeInterval)
        var sql = """
            SELECT * FROM jobs
            WHERE (state = 'pending' OR (state = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= ?)))
            """
        var arguments: StatementArguments = [StoredValue.time(now)]
        if let kinds {
            sql += " AND kind IN (\(databaseQuestionMarks(count: kinds.count)))"
            arguments += StatementArguments(kinds)
        }
        sql += " ORDER BY created_at, id LIMIT ?"
        arguments += [limit]
        let query = sql
        let queryArguments = arguments
        return try await database.write("claiming jobs") { db in
            var claimed: [Job] = []
            for var job in try Row.fetchAll(db, sql: query, arguments: queryArguments).map(Self.job) {
                job.state = .running
                job.leaseOwner = owner
                job.leaseExpiresAt = expiresAt
                job.attempts += 1
                job.updatedAt = now
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = ?, updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [owner, StoredValue.time(expiresAt), job.attempts, StoredValue.time(now), job.id]
                )
                claimed.append(job)
            }
            return claimed
        }
    }

    public func heartbeat(jobID: String, owner: String, leaseDuration: Duration, now: Date) async throws -> Bool {
        let expiresAt = now.addingTimeInterval(leaseDuration.timeInterval)
        return try await updateLeased(
            jobID, owner, "renewing a job's lease",
            set: "lease_expires_at = ?, updated_at = ?",
            [StoredValue.time(expiresAt), StoredValue.time(now)]
        )
    }

    public func complete(jobID: String, owner: String, result: JSONValue, now: Date) async throws -> Bool {
        let resultJSON: String
        do {
            resultJSON = try StoredValue.json(result)
        } catch {
            throw HarnessError(.invalidArgument, "the job's result could not be encoded as JSON")
        }
        return try await updateLeased(
            jobID, owner, "completing a job",
            set: "state = 'succeeded', result_json = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?",
            [resultJSON, StoredValue.time(now)]
        )
    }

    public func fail(jobID: String, owner: String, error: String, retry: Bool, now: Date) async throws -> Bool {
        try await updateLeased(
            jobID, owner, "failing a job",
            set: "state = ?, error = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?",
            [(retry ? JobState.pending : JobState.failed).rawValue, error, StoredValue.time(now)]
        )
    }

    public func get(id: String, tenant: String) async throws -> Job? {
        try await database.read("reading a job") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ? AND tenant = ?", arguments: [id, tenant]).map(Self.job)
        }
    }

    public func list(tenant: String, state: JobState?, limit: Int) async throws -> [Job] {
        try await database.read("listing jobs") { db in
            if let state {
                return try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM jobs WHERE tenant = ? AND state = ? ORDER BY created_at, id LIMIT ?",
                    arguments: [tenant, state.rawValue, max(0, limit)]
                ).map(Self.job)
            }
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM jobs WHERE tenant = ? ORDER BY created_at, id LIMIT ?",
                arguments: [tenant, max(0, limit)]
            ).map(Self.job)
        }
    }

    /// Applies `assignments` to the job if it is running under `owner`'s lease; returns
    /// whether it was.
    private func updateLeased(
        _ jobID: String, _ owner: String, _ operation: String, set assignments: String, _ values: StatementArguments
    ) async throws -> Bool {
        let sql = "UPDATE jobs SET \(assignments) WHERE id = ? AND state = 'running' AND lease_owner = ?"
        let arguments = values + [jobID, owner]
        return try await database.write(operation) { db in
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount > 0
        }
    }

    static func job(_ row: Row) throws -> Job {
        let table = "jobs"
        let id: String = try row.required("id", in: table)
        let stateName: String = try row.required("state", in: table)
        guard let state = JobState(rawValue: stateName) else {
            throw HarnessError(.storage, "job '\(id)' has an unknown state '\(stateName)'")
        }
        let payloadJSON: String = try row.required("payload_json", in: table)
        let resultJSON: String? = try row.optional("result_json", in: table)
        let leaseExpiresAt: Double? = try row.optional("lease_expires_at", in: table)
        return Job(
            id: id,
            tenant: try row.required("tenant", in: table),
            parentID: try row.optional("parent_id", in: table),
            kind: try row.required("kind", in: table),
            state: state,
            payload: try StoredValue.decode(JSONValue.self, json: payloadJSON, "the payload of job '\(id)'"),
            result: try resultJSON.map { try StoredValue.decode(JSONValue.self, json: $0, "the result of job '\(id)'") },
            error: try row.optional("error", in: table),
            attempts: try row.required("attempts", in: table),
            leaseOwner: try row.optional("lease_owner", in: table),
            leaseExpiresAt: leaseExpiresAt.map(StoredValue.date),
            createdAt: StoredValue.date(try row.required("created_at", in: table)),
            updatedAt: StoredValue.date(try row.required("updated_at", in: table))
        )
    }
}
