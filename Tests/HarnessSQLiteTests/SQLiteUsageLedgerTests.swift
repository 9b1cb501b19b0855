//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import HarnessCore
@testable import HarnessSQLite
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SQLiteUsageLedgerTests {
    /// Random records, every grouping and window: the same answers as the in-memory ledger.
    @Test func agreesWithTheInMemoryLedger() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = SQLiteUsageLedger(database: try directory.newDatabase())
        let memory = InMemoryUsageLedger()
        var random = SeededGenerator(seed: 42)
        let midnight = Date(timeIntervalSince1970: 1_767_225_600)
        var times: [Date] = [
            midnight, midnight - 0.000_001, midnight - 0.0004, midnight + 0.0004, midnight + 86_400 - 0.0001,
            Date(timeIntervalSince1970: -86_400.5), Date(timeIntervalSince1970: 0),
        ]
        for _ in 0..<200 { times.append(midnight + Double.random(in: -5 * 86_400...5 * 86_400, using: &random)) }
        for (i, time) in times.enumerated() {
            let record = UsageRecord(
                id: "r\(i)", tenant: ["t", "u"].randomElement(using: &random) ?? "t",
                apiKeyID: ["k1", "k2", nil].randomElement(using: &random) ?? nil,
                model: ["gpt", "claude", "é-model"].randomElement(using: &random) ?? "gpt", provider: "p",
                usage: Usage(
                    inputTokens: Int.random(in: 0...5_000, using: &random), outputTokens: Int.random(in: 0...900, using: &random),
                    cacheReadTokens: Int.random(in: 0...300, using: &random), cacheWriteTokens: Int.random(in: 0...50, using: &random),
                    reasoningTokens: Int.random(in: 0...70, using: &random)
                ),
                costUSD: Double.random(in: 0...2, using: &random), latencyMilliseconds: Int.random(in: 1...3_000, using: &random),
                createdAt: time
            )
            try await sqlite.record(record)
            try await memory.record(record)
        }
        let windows: [(Date?, Date?)] = [(nil, nil), (midnight, nil), (nil, midnight), (midnight - 86_400, midnight + 0.0004)]
        for tenant in ["t", "u", "none"] {
            for grouping in [UsageGrouping.apiKey, .model, .day] {
                for (since, until) in windows {
                    let a = try await sqlite.aggregate(tenant: tenant, by: grouping, since: since, until: until)
                    let b = try await memory.aggregate(tenant: tenant, by: grouping, since: since, until: until)
                    #expect(a.map(\.group) == b.map(\.group), "\(tenant) \(grouping) \(String(describing: since))")
                    #expect(a.map(\.requests) == b.map(\.requests))
                    #expect(a.map(\.usage) == b.map(\.usage))
                    for (x, y) in zip(a, b) { #expect(abs(x.costUSD - y.costUSD) < 1e-9) }
                }
            }
            for key in ["k1", "k2", nil] as [String?] {
                for since in [nil, midnight] as [Date?] {
                    let a = try await sqlite.totalCost(tenant: tenant, apiKeyID: key, since: since)
                    let b = try await memory.totalCost(tenant: tenant, apiKeyID: key, since: since)
                    #expect(abs(a - b) < 1e-9)
                }
            }
        }
    }

    @Test func everyTokenKindHasItsOwnColumnAndARetriedRecordCountsOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        let ledger = SQLiteUsageLedger(database: database)
        let record = UsageRecord(
            id: "same", tenant: "t", model: "m", provider: "p",
            usage: Usage(inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4, reasoningTokens: 5),
            costUSD: 0.5, latencyMilliseconds: 10
        )
        try await ledger.record(record)
        try await ledger.record(record)
        let row = try await database.strings(
            """
            SELECT input_tokens || ',' || output_tokens || ',' || cache_read_tokens || ',' || cache_write_tokens
                || ',' || reasoning_tokens || ',' || status FROM usage_records
            """
        )
        #expect(row == ["1,2,3,4,5,ok"])
        #expect(try await ledger.totalCost(tenant: "t", apiKeyID: nil, since: nil) == 0.5)
    }

    /// Batches (written on the background thread) and single records (on GRDB's queue)
    /// interleaved: every record lands once, and a batch repeating ids counts them once.
    @Test func batchesAndSingleRecordsInterleaveAndCountOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        let ledger = SQLiteUsageLedger(database: database)
        func record(_ id: String) -> UsageRecord {
            UsageRecord(id: id, tenant: "t", model: "m", provider: "p", usage: Usage(inputTokens: 1, outputTokens: 1), costUSD: 1, latencyMilliseconds: 1)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for b in 0..<10 {
                group.addTask { try await ledger.record(contentsOf: (0..<50).map { record("b\(b)-\($0 % 40)") }) }
                group.addTask { try await ledger.record(record("s\(b)")) }
            }
            try await group.waitForAll()
        }
        try await ledger.record(contentsOf: [record("s0"), record("b0-0"), record("new")])
        #expect(try await ledger.totalCost(tenant: "t", apiKeyID: nil, since: nil) == Double(10 * 40 + 10 + 1))
        let counts = try await database.strings("SELECT COUNT(*) FROM usage_records")
        #expect(counts == ["411"])
    }

    /// A batch up to the limit goes to the background thread in chunks; a bigger one (what
    /// a starved background thread leads to) is written at normal priority; all land.
    @Test func smallBatchesGoToTheBackgroundBigOnesDoNot() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        func records(_ prefix: String, _ n: Int) -> [UsageRecord] {
            (0..<n).map { UsageRecord(id: "\(prefix)\($0)", tenant: "t", model: "m", provider: "p", usage: Usage(inputTokens: 1), costUSD: 1, latencyMilliseconds: 1) }
        }
        let ledger = SQLiteUsageLedger(database: database, backgroundLimit: 500)
        try await ledger.record(contentsOf: records("a", 500))  // 4 chunks
        #expect(ledger.rowsWritten == (500, 0))
        try await ledger.record(contentsOf: records("b", 501))
        #expect(ledger.rowsWritten == (500, 501))
        try await ledger.record(records("c", 1)[0])  // a single record: GRDB's queue, not counted
        #expect(ledger.rowsWritten == (500, 501))
        #expect(try await database.strings("SELECT COUNT(*) FROM usage_records") == ["1002"])
        #expect(try await ledger.totalCost(tenant: "t", apiKeyID: nil, since: nil) == 1_002)
    }

    /// The background thread runs jobs, hands back their results and errors, and on
    /// Linux runs under SCHED_IDLE (policy 5).
    @Test func backgroundThreadRunsJobsAtIdlePriority() async throws {
        let thread = BackgroundWriteThread.shared
        async let a = thread.run { 1 }
        async let b = thread.run { 2 }
        #expect(try await a + b == 3)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await thread.run { () throws -> Int in throw Failure() } }
        let seen = Mutex<[Int]>([])
        for i in 0..<20 { try await thread.run { seen.withLock { $0.append(i) } } }
        #expect(seen.withLock { $0 } == Array(0..<20))
        #if os(Linux)
        let policy = try await thread.run { sched_getscheduler(0) }
        #expect(policy == 5)
        let lowered = thread.lowered.load(ordering: .relaxed)
        #expect(lowered)

        #endif
    }
}

/// SplitMix64: a small seeded generator, so that failures repeat.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
