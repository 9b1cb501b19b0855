//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Foundation

/// The contract every ``UsageLedger`` keeps.
public enum UsageLedgerContract {
    public static func run(_ makeLedger: () async throws -> any UsageLedger) async throws {
        let ledger = try await makeLedger()
        let day1 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let day2 = day1.addingTimeInterval(86_400 + 3_600)
        let records = [
            UsageRecord(id: "u1", tenant: "t", apiKeyID: "k1", model: "gpt", provider: "openai",
                        usage: Usage(inputTokens: 100, outputTokens: 20, cacheReadTokens: 40, cacheWriteTokens: 5, reasoningTokens: 7),
                        costUSD: 0.25, latencyMilliseconds: 120, createdAt: day1),
            UsageRecord(id: "u2", tenant: "t", apiKeyID: "k2", model: "claude", provider: "anthropic",
                        usage: Usage(inputTokens: 10, outputTokens: 2), costUSD: 0.5, latencyMilliseconds: 80, createdAt: day1.addingTimeInterval(60)),
            UsageRecord(id: "u3", tenant: "t", apiKeyID: "k1", model: "gpt", provider: "openai",
                        usage: Usage(inputTokens: 1, outputTokens: 1), costUSD: 1.0, latencyMilliseconds: 50, status: "rate_limited", createdAt: day2),
            UsageRecord(id: "other", tenant: "other-tenant", apiKeyID: "k1", model: "gpt", provider: "openai",
                        usage: Usage(inputTokens: 999, outputTokens: 999), costUSD: 99, latencyMilliseconds: 1, createdAt: day1),
        ]
        for r in records { try await ledger.record(r) }

        let byModel = try await ledger.aggregate(tenant: "t", by: .model, since: nil, until: nil)
        try require(byModel.map(\.group) == ["claude", "gpt"], "ledger.aggregate", "groups \(byModel.map(\.group))")
        let gpt = byModel[1]
        try require(gpt.requests == 2 && abs(gpt.costUSD - 1.25) < 1e-9, "ledger.aggregate", "gpt \(gpt)")
        try require(gpt.usage == Usage(inputTokens: 101, outputTokens: 21, cacheReadTokens: 40, cacheWriteTokens: 5, reasoningTokens: 7),
                    "ledger.aggregate", "every token kind must be summed: \(gpt.usage)")
        let byDay = try await ledger.aggregate(tenant: "t", by: .day, since: nil, until: nil)
        try require(byDay.map(\.group) == ["2026-01-01", "2026-01-02"], "ledger.day", "days \(byDay.map(\.group))")
        let byKey = try await ledger.aggregate(tenant: "t", by: .apiKey, since: day1.addingTimeInterval(30), until: day2)
        try require(byKey.map(\.group) == ["k2"], "ledger.window", "since/until window gave \(byKey.map(\.group))")
        let k1 = try await ledger.totalCost(tenant: "t", apiKeyID: "k1", since: nil)
        try require(abs(k1 - 1.25) < 1e-9, "ledger.totalCost", "k1 cost \(k1) (another tenant's k1 must not count)")
        let all = try await ledger.totalCost(tenant: "t", apiKeyID: nil, since: day2)
        try require(abs(all - 1.0) < 1e-9, "ledger.totalCost", "since day2: \(all)")
        let none = try await ledger.aggregate(tenant: "nobody", by: .model, since: nil, until: nil)
        try require(none.isEmpty, "ledger.tenancy", "an unknown tenant sees \(none)")
    }
}

/// The contract every ``VirtualKeyStore`` keeps.
public enum VirtualKeyStoreContract {
    public static func run(_ makeStore: () async throws -> any VirtualKeyStore) async throws {
        let store = try await makeStore()
        let created = Date(timeIntervalSince1970: 1_767_225_600)
        let key = VirtualKey(id: "key_1", tenant: "t", name: "ci", keyHash: String(repeating: "ab", count: 32),
                             displayPrefix: "hk-ab12", budgetUSD: 10, requestsPerMinute: 60, tokensPerMinute: 100_000, createdAt: created)
        try await store.create(key)
        let found = try await store.find(hash: key.keyHash)
        try require(found == key, "keys.find", "found \(String(describing: found))")
        var duplicate = key
        duplicate.id = "key_2"
        var threw = false
        do { try await store.create(duplicate) } catch { threw = true }
        try require(threw, "keys.unique", "a second key with the same hash was accepted")
        try await store.create(VirtualKey(id: "key_3", tenant: "other", name: "x", keyHash: String(repeating: "cd", count: 32), displayPrefix: "hk-cd", createdAt: created))
        let listed = try await store.list(tenant: "t")
        try require(listed.map(\.id) == ["key_1"], "keys.tenancy", "tenant t lists \(listed.map(\.id))")
        let wrongTenant = try await store.revoke(id: "key_1", tenant: "other", at: created)
        try require(!wrongTenant, "keys.tenancy", "another tenant revoked the key")
        let revoked = try await store.revoke(id: "key_1", tenant: "t", at: created.addingTimeInterval(5))
        try require(revoked, "keys.revoke", "revoke returned false")
        let again = try await store.revoke(id: "key_1", tenant: "t", at: created.addingTimeInterval(9))
        try require(!again, "keys.revoke", "a second revoke returned true")
        let after = try await store.find(hash: key.keyHash)
        try require(after?.revokedAt == created.addingTimeInterval(5), "keys.revoke", "revokedAt is \(String(describing: after?.revokedAt))")
        try require(try await store.find(hash: "nope") == nil, "keys.find", "an unknown hash was found")
    }
}

/// The contract every ``JobStore`` keeps.
public enum JobStoreContract {
    public static func run(_ makeStore: () async throws -> any JobStore) async throws {
        try await lifecycle(makeStore())
        try await concurrentClaims(makeStore())
    }

    public static func lifecycle(_ store: any JobStore) async throws {
        let t0 = Date(timeIntervalSince1970: 1_767_225_600)
        try await store.enqueue(Job(id: "j1", tenant: "t", kind: "summarise", payload: ["doc": "a"], createdAt: t0, updatedAt: t0))
        try await store.enqueue(Job(id: "j2", tenant: "t", parentID: "j1", kind: "summarise", payload: ["doc": "b"],
                                    createdAt: t0.addingTimeInterval(1), updatedAt: t0))
        try await store.enqueue(Job(id: "j3", tenant: "t", kind: "other", payload: [:], createdAt: t0.addingTimeInterval(2), updatedAt: t0))
        let first = try await store.claim(owner: "w1", kinds: ["summarise"], leaseDuration: .seconds(30), limit: 1, now: t0)
        try require(first.map(\.id) == ["j1"], "jobs.claim", "oldest first: got \(first.map(\.id))")
        try require(first[0].state == .running && first[0].attempts == 1 && first[0].leaseOwner == "w1", "jobs.claim", "claimed job \(first[0])")
        let second = try await store.claim(owner: "w2", kinds: ["summarise"], leaseDuration: .seconds(30), limit: 5, now: t0)
        try require(second.map(\.id) == ["j2"], "jobs.claim", "a leased job was claimed again: \(second.map(\.id))")
        try require(second[0].parentID == "j1" && second[0].payload == ["doc": "b"], "jobs.fields", "fields \(second[0])")
        // Only the owner acts on a lease.
        let stolen = try await store.complete(jobID: "j1", owner: "w2", result: ["x": 1], now: t0)
        try require(!stolen, "jobs.owner", "another worker completed the job")
        let beat = try await store.heartbeat(jobID: "j1", owner: "w1", leaseDuration: .seconds(60), now: t0.addingTimeInterval(20))
        try require(beat, "jobs.heartbeat", "the owner's heartbeat failed")
        // w2's lease on j2 expires; w3 takes it over.
        let retaken = try await store.claim(owner: "w3", kinds: ["summarise"], leaseDuration: .seconds(30), limit: 5, now: t0.addingTimeInterval(45))
        try require(retaken.map(\.id) == ["j2"] && retaken[0].attempts == 2, "jobs.lease", "after expiry: \(retaken.map { ($0.id, $0.attempts) })")
        let lateOwner = try await store.complete(jobID: "j2", owner: "w2", result: [:], now: t0.addingTimeInterval(46))
        try require(!lateOwner, "jobs.lease", "the expired owner completed the job")
        let done = try await store.complete(jobID: "j1", owner: "w1", result: ["summary": "ok"], now: t0.addingTimeInterval(50))
        try require(done, "jobs.complete", "complete returned false")
        let j1 = try await store.get(id: "j1", tenant: "t")
        try require(j1?.state == .succeeded && j1?.result == ["summary": "ok"] && j1?.leaseOwner == nil, "jobs.complete", "j1 \(String(describing: j1))")
        let retried = try await store.fail(jobID: "j2", owner: "w3", error: "boom", retry: true, now: t0.addingTimeInterval(51))
        let j2 = try await store.get(id: "j2", tenant: "t")
        try require(retried && j2?.state == .pending && j2?.error == "boom", "jobs.fail", "j2 \(String(describing: j2))")
        try require(try await store.get(id: "j1", tenant: "other") == nil, "jobs.tenancy", "another tenant read j1")
        let pending = try await store.list(tenant: "t", state: .pending, limit: 10)
        try require(pending.map(\.id) == ["j2", "j3"], "jobs.list", "pending \(pending.map(\.id))")
    }

    /// Workers claiming at once never get the same job.
    public static func concurrentClaims(_ store: any JobStore, jobs: Int = 40, workers: Int = 8) async throws {
        let t0 = Date(timeIntervalSince1970: 1_767_225_600)
        for i in 0..<jobs {
            try await store.enqueue(Job(id: String(format: "c%03d", i), tenant: "t", kind: "k", payload: [:], createdAt: t0.addingTimeInterval(Double(i)), updatedAt: t0))
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for w in 0..<workers {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let got = try await store.claim(owner: "w\(w)", kinds: nil, leaseDuration: .seconds(300), limit: 2, now: t0)
                        if got.isEmpty { return mine }
                        mine += got.map(\.id)
                    }
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
        try require(claimed.count == jobs, "jobs.concurrency", "\(claimed.count) claims for \(jobs) jobs")
        try require(Set(claimed).count == jobs, "jobs.concurrency", "a job was claimed twice")
    }
}
