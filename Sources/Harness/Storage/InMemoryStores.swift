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
public import Foundation

/// The in-memory ``UsageLedger``.
public final class InMemoryUsageLedger: UsageLedger {
    private let records = Mutex<[UsageRecord]>([])

    public init() {}

    public func record(_ record: UsageRecord) async throws {
        records.withLock { $0.append(record) }
    }

    public func aggregate(tenant: String, by grouping: UsageGrouping, since: Date?, until: Date?) async throws -> [UsageAggregate] {
        let selected = records.withLock { $0 }.filter { r in
            r.tenant == tenant && (since.map { r.createdAt >= $0 } ?? true) && (until.map { r.createdAt < $0 } ?? true)
        }
        var groups: [String: UsageAggregate] = [:]
        for r in selected {
            let key: String
            switch grouping {
            case .apiKey: key = r.apiKeyID ?? ""
            case .model: key = r.model
            case .day: key = Self.day(r.createdAt)
            }
            var g = groups[key] ?? UsageAggregate(group: key, requests: 0, usage: .zero, costUSD: 0)
            g.requests += 1
            g.usage += r.usage
            g.costUSD += r.costUSD
            groups[key] = g
        }
        return groups.values.sorted { $0.group < $1.group }
    }

    public func totalCost(tenant: String, apiKeyID: String?, since: Date?) async throws -> Double {
        records.withLock { $0 }.filter { r in
            r.tenant == tenant && (apiKeyID.map { r.apiKeyID == $0 } ?? true) && (since.map { r.createdAt >= $0 } ?? true)
        }.reduce(0) { $0 + $1.costUSD }
    }

    /// `YYYY-MM-DD` in UTC.
    public static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }
}

/// The in-memory ``VirtualKeyStore``.
public final class InMemoryVirtualKeyStore: VirtualKeyStore {
    private let keys = Mutex<[VirtualKey]>([])

    public init() {}

    public func create(_ key: VirtualKey) async throws {
        try keys.withLock { keys in
            if keys.contains(where: { $0.id == key.id || $0.keyHash == key.keyHash }) {
                throw HarnessError(.invalidArgument, "a key with this id or hash already exists")
            }
            keys.append(key)
        }
    }

    public func find(hash: String) async throws -> VirtualKey? {
        keys.withLock { $0.first { $0.keyHash == hash } }
    }

    public func list(tenant: String) async throws -> [VirtualKey] {
        keys.withLock { $0.filter { $0.tenant == tenant }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    @discardableResult
    public func revoke(id: String, tenant: String, at date: Date) async throws -> Bool {
        keys.withLock { keys in
            guard let i = keys.firstIndex(where: { $0.id == id && $0.tenant == tenant && $0.revokedAt == nil }) else { return false }
            keys[i].revokedAt = date
            return true
        }
    }
}

/// The in-memory ``JobStore``.
public final class InMemoryJobStore: JobStore {
    private let jobs = Mutex<[String: Job]>([:])

    public init() {}

    public func enqueue(_ job: Job) async throws {
        try jobs.withLock { jobs in
            if jobs[job.id] != nil { throw HarnessError(.invalidArgument, "job '\(job.id)' already exists") }
            jobs[job.id] = job
        }
    }

    public func claim(owner: String, kinds: [String]?, leaseDuration: Duration, limit: Int, now: Date) async throws -> [Job] {
        jobs.withLock { jobs in
            let claimable = jobs.values.filter { j in
                (kinds.map { $0.contains(j.kind) } ?? true)
                    && (j.state == .pending || (j.state == .running && (j.leaseExpiresAt.map { $0 <= now } ?? true)))
            }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.prefix(max(0, limit))
            var claimed: [Job] = []
            for var j in claimable {
                j.state = .running
                j.leaseOwner = owner
                j.leaseExpiresAt = now.addingTimeInterval(leaseDuration.timeInterval)
                j.attempts += 1
                j.updatedAt = now
                jobs[j.id] = j
                claimed.append(j)
            }
            return claimed
        }
    }

    public func heartbeat(jobID: String, owner: String, leaseDuration: Duration, now: Date) async throws -> Bool {
        update(jobID, owner) { j in
            j.leaseExpiresAt = now.addingTimeInterval(leaseDuration.timeInterval)
            j.updatedAt = now
        }
    }

    public func complete(jobID: String, owner: String, result: JSONValue, now: Date) async throws -> Bool {
        update(jobID, owner) { j in
            j.state = .succeeded
            j.result = result
            j.leaseOwner = nil
            j.leaseExpiresAt = nil
            j.updatedAt = now
        }
    }

    public func fail(jobID: String, owner: String, error: String, retry: Bool, now: Date) async throws -> Bool {
        update(jobID, owner) { j in
            j.state = retry ? .pending : .failed
            j.error = error
            j.leaseOwner = nil
            j.leaseExpiresAt = nil
            j.updatedAt = now
        }
    }

    private func update(_ id: String, _ owner: String, _ change: (inout Job) -> Void) -> Bool {
        jobs.withLock { jobs in
            guard var j = jobs[id], j.state == .running, j.leaseOwner == owner else { return false }
            change(&j)
            jobs[id] = j
            return true
        }
    }

    public func get(id: String, tenant: String) async throws -> Job? {
        jobs.withLock { $0[id].flatMap { $0.tenant == tenant ? $0 : nil } }
    }

    public func list(tenant: String, state: JobState?, limit: Int) async throws -> [Job] {
        jobs.withLock { jobs in
            Array(jobs.values.filter { job in job.tenant == tenant && (state.map { job.state == $0 } ?? true) }
                .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.prefix(max(0, limit)))
        }
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`.
    public var timeInterval: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
