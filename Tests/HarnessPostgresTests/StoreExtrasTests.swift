//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
import HarnessPostgres
import Testing

@Suite("PostgreSQL stores beyond the ports")
struct StoreExtrasTests {
    @Test func conversationPagingSearchAndExport() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            let store = PostgresConversationStore(database: database)
            let t0 = Date(timeIntervalSinceReferenceDate: 800_000_000.123_456_789)
            for i in 0..<7 {
                try await store.append(
                    Turn(message: .user("m\(i)"), createdAt: t0.addingTimeInterval(Double(i) / 3),
                         metadata: i == 3 ? ["run_id": "r-42", "k": "v"] : ["run_id": "r-\(i)"]),
                    to: "a", tenant: "t"
                )
            }
            let tagged = ["run_id": "r-42"]
            try await store.append(Turn(message: .user("x"), createdAt: t0, metadata: tagged), to: "b", tenant: "t")
            try await store.append(Turn(message: .user("y"), createdAt: t0, metadata: tagged), to: "a", tenant: "other")

            let first = try await store.page(conversationID: "a", tenant: "t", afterSequence: nil, limit: 3)
            let second = try await store.page(
                conversationID: "a", tenant: "t", afterSequence: first.last?.sequence, limit: 3
            )
            let third = try await store.page(
                conversationID: "a", tenant: "t", afterSequence: second.last?.sequence, limit: 3
            )
            #expect(first.map(\.sequence) == [0, 1, 2])
            #expect(second.map(\.sequence) == [3, 4, 5])
            #expect(third.map(\.message.text) == ["m6"])
            // Dates read back exactly.
            #expect(first[1].createdAt == t0.addingTimeInterval(1.0 / 3))

            let found = try await store.search(tenant: "t", metadataKey: "run_id", value: "r-42", limit: 10)
            #expect(Set(found.map(\.id)) == ["a", "b"])
            #expect(found.allSatisfy { $0.tenant == "t" })
            #expect(try await store.search(tenant: "t", metadataKey: "run_id", value: "nope", limit: 10).isEmpty)
            #expect(try await store.search(tenant: "t", metadataKey: "k", value: "v", limit: 10).map(\.id) == ["a"])

            let data = try await store.export(conversationID: "a", tenant: "t")
            let exported = try JSONDecoder().decode(ConversationExport.self, from: data)
            #expect(exported.id == "a" && exported.tenant == "t" && exported.formatVersion == 1)
            #expect(exported.turns == (try await store.load(conversationID: "a", tenant: "t", last: nil)))
            #expect(exported.createdAt == t0 && exported.updatedAt == t0.addingTimeInterval(2))
            await #expect(throws: HarnessError.self) { try await store.export(conversationID: "a", tenant: "nobody") }

            // Text is stored as JSON text, not JSONB, so even NUL characters round-trip.
            let odd = Turn(message: .user("nul \u{0} \\u0000 \"q\" 🙂"), createdAt: t0)
            try await store.append(odd, to: "odd", tenant: "t")
            #expect(try await store.load(conversationID: "odd", tenant: "t", last: nil) == [odd])
        }
    }

    @Test func cacheNamespacesAndEviction() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            let one = PostgresCache(database: database, namespace: "one")
            let two = PostgresCache(database: database, namespace: "two")
            try await one.set("k", value: Data([1]), ttl: nil)
            #expect(try await two.get("k") == nil)
            try await two.set("k", value: Data([2]), ttl: .seconds(60))
            try await one.set("old", value: Data([3]), ttl: .seconds(60))
            #expect(try await one.get("k") == Data([1]))
            // An hour from now, the two 60-second entries have expired; the one without a TTL stays.
            let evicted = try await one.evictExpired(now: Date().addingTimeInterval(3_600))
            #expect(evicted == 1)
            #expect(try await one.get("old") == nil)
            #expect(try await one.get("k") == Data([1]))
            #expect(try await two.get("k") == Data([2]))
        }
    }

    @Test func usageIsIdempotentAndDaysAreUTC() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            let ledger = PostgresUsageLedger(database: database)
            let midnight = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
            let record = UsageRecord(
                id: "u1", tenant: "t", model: "m", provider: "p", usage: Usage(inputTokens: 1), costUSD: 1,
                latencyMilliseconds: 1, createdAt: midnight.addingTimeInterval(-0.000_001)
            )
            try await ledger.record(record)
            try await ledger.record(record)  // a retry
            try await ledger.record(UsageRecord(
                id: "u2", tenant: "t", model: "m", provider: "p", usage: Usage(inputTokens: 2), costUSD: 2,
                latencyMilliseconds: 1, createdAt: midnight
            ))
            let days = try await ledger.aggregate(tenant: "t", by: .day, since: nil, until: nil)
            #expect(days.map(\.group) == ["2025-12-31", "2026-01-01"])
            #expect(days.map(\.requests) == [1, 1])
            #expect(try await ledger.totalCost(tenant: "t", apiKeyID: nil, since: nil) == 3)
        }
    }

    @Test func jobsNeverCrossTenants() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            let jobs = PostgresJobStore(database: database)
            let t0 = Date(timeIntervalSinceReferenceDate: 700_000_000.5)
            let payload: JSONValue = ["n": 1.5, "s": "ü"]
            try await jobs.enqueue(Job(id: "j", tenant: "a", kind: "k", payload: payload, createdAt: t0, updatedAt: t0))
            await #expect(throws: HarnessError.self) {
                try await jobs.enqueue(Job(id: "j", tenant: "b", kind: "k", payload: [:], createdAt: t0, updatedAt: t0))
            }
            #expect(try await jobs.get(id: "j", tenant: "b") == nil)
            #expect(try await jobs.list(tenant: "b", state: nil, limit: 10).isEmpty)
            #expect(try await jobs.claim(owner: "w", kinds: [], leaseDuration: .seconds(1), limit: 5, now: t0).isEmpty)
            let claimed = try await jobs.claim(owner: "w", kinds: nil, leaseDuration: .seconds(1), limit: 5, now: t0)
            #expect(claimed.count == 1 && claimed[0].payload == payload && claimed[0].createdAt == t0)
            #expect(claimed[0].leaseExpiresAt == t0.addingTimeInterval(1))
        }
    }
}
