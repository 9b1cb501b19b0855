//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import struct Foundation.Data
import struct Foundation.Date

/// A broken promise of a port, found by a contract suite.
public struct ContractFailure: Error, Sendable, CustomStringConvertible {
    public var check: String
    public var message: String

    public var description: String { "contract check '\(check)' failed: \(message)" }
}

func require(_ condition: Bool, _ check: String, _ message: @autoclosure () -> String) throws {
    if !condition { throw ContractFailure(check: check, message: message()) }
}

/// The contract every ``ConversationStore`` keeps, as one reusable suite. Run it against each
/// adapter (in memory, SQLite, PostgreSQL) from any test framework; it throws
/// ``ContractFailure`` naming the broken check.
public enum ConversationStoreContract {
    /// Runs every check, each on a fresh store from `makeStore`.
    public static func run(_ makeStore: () async throws -> any ConversationStore) async throws {
        try await roundTrip(makeStore())
        try await lastK(makeStore())
        try await listAndDelete(makeStore())
        try await tenantIsolation(makeStore())
        try await concurrentAppends(makeStore())
    }

    static func sampleTurns() -> [Turn] {
        let call = ToolCall(id: "call_1", name: "get_weather", arguments: ["city": "Paris", "days": 3])
        return [
            Turn(message: .user("Weather in Paris? ünïcødé ✓")),
            Turn(message: .assistant("Let me check.", toolCalls: [call]), model: "m1",
                 usage: Usage(inputTokens: 12, outputTokens: 7, cacheReadTokens: 3, cacheWriteTokens: 1, reasoningTokens: 2)),
            Turn(message: .tool(ToolResult(toolCallID: "call_1", name: "get_weather", content: "{\"temp\":21}", isError: false))),
            Turn(message: .assistant("Sunny, 21°C."), model: "m1", usage: Usage(inputTokens: 30, outputTokens: 5),
                 metadata: ["run_id": "r1"]),
        ]
    }

    /// Loading returns exactly what was appended, in order, with sequence numbers from 0.
    public static func roundTrip(_ store: any ConversationStore) async throws {
        let turns = sampleTurns()
        for (i, turn) in turns.enumerated() {
            let stored = try await store.append(turn, to: "c1", tenant: "t1")
            try require(stored.sequence == i, "roundTrip", "append \(i) got sequence \(stored.sequence)")
        }
        let loaded = try await store.load(conversationID: "c1", tenant: "t1", last: nil)
        try require(loaded.count == turns.count, "roundTrip", "loaded \(loaded.count) turns, appended \(turns.count)")
        for (i, (a, b)) in zip(turns, loaded).enumerated() {
            try require(a.message == b.message, "roundTrip", "turn \(i) message differs")
            try require(a.model == b.model && a.usage == b.usage && a.metadata == b.metadata, "roundTrip", "turn \(i) fields differ")
            try require(b.sequence == i, "roundTrip", "turn \(i) has sequence \(b.sequence)")
        }
        let missing = try await store.load(conversationID: "nope", tenant: "t1", last: nil)
        try require(missing.isEmpty, "roundTrip", "an unknown conversation is not empty")
    }

    /// `last: k` returns the newest k turns, oldest first.
    public static func lastK(_ store: any ConversationStore) async throws {
        for i in 0..<10 { try await store.append(Turn(message: .user("m\(i)")), to: "c", tenant: "t") }
        let last3 = try await store.load(conversationID: "c", tenant: "t", last: 3)
        try require(last3.map(\.message.text) == ["m7", "m8", "m9"], "lastK", "got \(last3.map(\.message.text))")
        let zero = try await store.load(conversationID: "c", tenant: "t", last: 0)
        try require(zero.isEmpty, "lastK", "last 0 returned \(zero.count) turns")
    }

    /// Listing pages through a tenant's conversations; delete removes one.
    public static func listAndDelete(_ store: any ConversationStore) async throws {
        for i in 0..<5 {
            try await store.append(Turn(message: .user("hi"), createdAt: Date(timeIntervalSince1970: 1_000 + Double(i))), to: "c\(i)", tenant: "t")
        }
        let page1 = try await store.list(tenant: "t", limit: 2, offset: 0)
        let page2 = try await store.list(tenant: "t", limit: 10, offset: 2)
        try require(page1.map(\.id) == ["c4", "c3"], "list", "first page \(page1.map(\.id))")
        try require(page2.map(\.id) == ["c2", "c1", "c0"], "list", "second page \(page2.map(\.id))")
        try require(page1.allSatisfy { $0.turnCount == 1 }, "list", "turn counts wrong")
        let deleted = try await store.delete(conversationID: "c2", tenant: "t")
        try require(deleted, "delete", "delete of an existing conversation returned false")
        let again = try await store.delete(conversationID: "c2", tenant: "t")
        try require(!again, "delete", "second delete returned true")
        let remaining = try await store.list(tenant: "t", limit: 10, offset: 0)
        try require(remaining.count == 4, "delete", "\(remaining.count) conversations remain")
    }

    /// No call made for one tenant sees, changes or deletes another tenant's rows.
    public static func tenantIsolation(_ store: any ConversationStore) async throws {
        try await store.append(Turn(message: .user("secret of A")), to: "shared-id", tenant: "A")
        try await store.append(Turn(message: .user("B's")), to: "shared-id", tenant: "B")
        let a = try await store.load(conversationID: "shared-id", tenant: "A", last: nil)
        let b = try await store.load(conversationID: "shared-id", tenant: "B", last: nil)
        try require(a.map(\.message.text) == ["secret of A"], "tenancy", "A sees \(a.map(\.message.text))")
        try require(b.map(\.message.text) == ["B's"], "tenancy", "B sees \(b.map(\.message.text))")
        try require(b.first?.sequence == 0, "tenancy", "B's sequence continues A's")
        let listB = try await store.list(tenant: "B", limit: 10, offset: 0)
        try require(listB.count == 1 && listB[0].tenant == "B", "tenancy", "B lists \(listB)")
        let listC = try await store.list(tenant: "C", limit: 10, offset: 0)
        try require(listC.isEmpty, "tenancy", "an unknown tenant lists \(listC.count) conversations")
        _ = try await store.delete(conversationID: "shared-id", tenant: "B")
        let aAfter = try await store.load(conversationID: "shared-id", tenant: "A", last: nil)
        try require(aAfter.count == 1, "tenancy", "deleting B's conversation touched A's")
    }

    /// 16 tasks appending to one conversation lose nothing and get a total order.
    public static func concurrentAppends(_ store: any ConversationStore, tasks: Int = 16, perTask: Int = 25) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask { try await store.append(Turn(message: .user("\(t):\(i)")), to: "busy", tenant: "t") }
                }
            }
            try await group.waitForAll()
        }
        let turns = try await store.load(conversationID: "busy", tenant: "t", last: nil)
        try require(turns.count == tasks * perTask, "concurrency", "\(turns.count) of \(tasks * perTask) turns stored")
        try require(turns.map(\.sequence) == Array(0..<turns.count), "concurrency", "sequence numbers are not 0..<n")
        // Each task's own appends stay in its order.
        var lastSeen: [Int: Int] = [:]
        for turn in turns {
            let parts = turn.message.text.split(separator: ":").compactMap { Int($0) }
            try require(parts.count == 2, "concurrency", "turn text mangled: \(turn.message.text)")
            try require(parts[1] > lastSeen[parts[0], default: -1], "concurrency", "task \(parts[0])'s appends out of order")
            lastSeen[parts[0]] = parts[1]
        }
    }
}

/// The contract every ``Cache`` keeps.
public enum CacheContract {
    public static func run(_ makeCache: () async throws -> any Cache) async throws {
        let cache = try await makeCache()
        let v = Data("value ✓".utf8)
        try await cache.set("k", value: v, ttl: nil)
        try require(try await cache.get("k") == v, "get", "set then get did not return the value")
        try require(try await cache.get("other") == nil, "get", "an unknown key returned a value")
        try await cache.set("k", value: Data("new".utf8), ttl: nil)
        try require(try await cache.get("k") == Data("new".utf8), "overwrite", "set did not replace the value")
        try await cache.delete("k")
        try require(try await cache.get("k") == nil, "delete", "a deleted key returned a value")
        try await cache.set("short", value: v, ttl: .milliseconds(1))
        try await Task.sleep(for: .milliseconds(30))
        try require(try await cache.get("short") == nil, "ttl", "an expired entry was returned")
    }
}
