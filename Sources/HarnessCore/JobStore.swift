//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import struct Foundation.Date

/// Where a job is in its life.
public enum JobState: String, Sendable, Hashable, Codable {
    case pending, running, succeeded, failed, cancelled
}

/// A durable unit of work, claimed by a worker under a lease.
public struct Job: Sendable, Hashable, Codable {
    public var id: String
    public var tenant: String
    public var parentID: String?
    public var kind: String
    public var state: JobState
    public var payload: JSONValue
    public var result: JSONValue?
    public var error: String?
    /// Times it has been claimed.
    public var attempts: Int
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, tenant: String, parentID: String? = nil, kind: String, state: JobState = .pending,
        payload: JSONValue, result: JSONValue? = nil, error: String? = nil, attempts: Int = 0,
        leaseOwner: String? = nil, leaseExpiresAt: Date? = nil, createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.id = id
        self.tenant = tenant
        self.parentID = parentID
        self.kind = kind
        self.state = state
        self.payload = payload
        self.result = result
        self.error = error
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Durable jobs with claim-by-lease.
///
/// ## Implementation requirements
/// - `claim` takes pending jobs, and running jobs whose lease has expired, oldest first; a
///   job is given to exactly one claimer at a time (PostgreSQL: `FOR UPDATE SKIP LOCKED`;
///   SQLite: one write transaction). Claiming sets state `running`, the owner, the lease
///   expiry, and adds one to `attempts`.
/// - `heartbeat`, `complete` and `fail` act only for the current lease owner and return
///   whether they did.
public protocol JobStore: Sendable {
    func enqueue(_ job: Job) async throws
    func claim(owner: String, kinds: [String]?, leaseDuration: Duration, limit: Int, now: Date) async throws -> [Job]
    func heartbeat(jobID: String, owner: String, leaseDuration: Duration, now: Date) async throws -> Bool
    func complete(jobID: String, owner: String, result: JSONValue, now: Date) async throws -> Bool
    /// Fails the job; with `retry` it goes back to pending for another claim.
    func fail(jobID: String, owner: String, error: String, retry: Bool, now: Date) async throws -> Bool
    func get(id: String, tenant: String) async throws -> Job?
    func list(tenant: String, state: JobState?, limit: Int) async throws -> [Job]
}
