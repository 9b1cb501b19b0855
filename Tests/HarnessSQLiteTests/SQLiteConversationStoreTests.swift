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
import Testing

@Suite struct SQLiteConversationStoreTests {
    @Test func turnsComeBackExactlyIncludingTheirTimes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SQLiteConversationStore(database: try directory.newDatabase())
        let call = ToolCall(id: "c1", name: "f", rawArguments: "{\"x\": [1, 2.5, \"é\", null, {\"y\": true}]}")
        let broken = ToolCall(id: "c2", name: "g", rawArguments: "{not json")
        let turns = [
            Turn(message: Message(role: .system, content: [.text("sys")], name: "setup"), createdAt: Date()),
            Turn(
                message: Message(role: .user, content: [.text("look"), .image(ImageContent(url: "https://x/y.png")),
                                                        .image(ImageContent(base64Data: "AAAA", mediaType: "image/png"))]),
                createdAt: Date(timeIntervalSinceReferenceDate: 0.1 + 0.2)
            ),
            Turn(message: .assistant("", toolCalls: [call, broken]), model: "m", usage: Usage(inputTokens: 1),
                 createdAt: Date(timeIntervalSince1970: -1.000_000_1), metadata: ["a": "1", "b": ""]),
            Turn(message: .tool(ToolResult(toolCallID: "c1", name: "f", content: "failed", isError: true)),
                 createdAt: Date(timeIntervalSinceReferenceDate: .pi * 1e8)),
        ]
        var appended: [Turn] = []
        for turn in turns { appended.append(try await store.append(turn, to: "c", tenant: "t")) }
        let loaded = try await store.load(conversationID: "c", tenant: "t", last: nil)
        #expect(loaded == appended)
        #expect(loaded.map(\.createdAt) == turns.map(\.createdAt))
        #expect(loaded[2].message.toolCalls.map(\.rawArguments) == [call.rawArguments, "{not json"])
        #expect(loaded[2].message.toolCalls[1].arguments == nil)
    }

    @Test func pagesFollowEachOther() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SQLiteConversationStore(database: try directory.newDatabase())
        for i in 0..<7 { try await store.append(Turn(message: .user("m\(i)")), to: "c", tenant: "t") }
        var texts: [[String]] = []
        var after: Int?
        while true {
            let page = try await store.page(conversationID: "c", tenant: "t", afterSequence: after, limit: 3)
            if page.isEmpty { break }
            texts.append(page.map(\.message.text))
            after = page.last?.sequence
        }
        #expect(texts == [["m0", "m1", "m2"], ["m3", "m4", "m5"], ["m6"]])
        #expect(try await store.page(conversationID: "c", tenant: "other", limit: 10).isEmpty)
        #expect(try await store.page(conversationID: "c", tenant: "t", limit: 0).isEmpty)
    }

    @Test func searchFindsConversationsByTurnMetadataWithinTheTenant() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SQLiteConversationStore(database: try directory.newDatabase())
        let t0 = Date(timeIntervalSince1970: 1_000)
        try await store.append(Turn(message: .user("a"), createdAt: t0, metadata: ["run_id": "r1"]), to: "c1", tenant: "t")
        try await store.append(Turn(message: .user("b"), createdAt: t0 + 1), to: "c2", tenant: "t")
        try await store.append(Turn(message: .user("c"), createdAt: t0 + 2, metadata: ["run_id": "r1", "x": "y"]), to: "c2", tenant: "t")
        try await store.append(Turn(message: .user("d"), createdAt: t0 + 3, metadata: ["run_id": "r2"]), to: "c3", tenant: "t")
        try await store.append(Turn(message: .user("e"), createdAt: t0 + 4, metadata: ["run_id": "r1"]), to: "c4", tenant: "other")
        let found = try await store.search(tenant: "t", metadataKey: "run_id", value: "r1", limit: 10)
        #expect(found.map(\.id) == ["c2", "c1"])
        #expect(found.map(\.turnCount) == [2, 1])
        #expect(found.allSatisfy { $0.tenant == "t" })
        #expect(try await store.search(tenant: "t", metadataKey: "run_id", value: "r1", limit: 1).map(\.id) == ["c2"])
        #expect(try await store.search(tenant: "t", metadataKey: "x", value: "z", limit: 10).isEmpty)
        #expect(try await store.search(tenant: "other", metadataKey: "run_id", value: "r1", limit: 10).map(\.id) == ["c4"])

        // Deleting a conversation removes its metadata rows too.
        try await store.delete(conversationID: "c2", tenant: "t")
        #expect(try await store.search(tenant: "t", metadataKey: "run_id", value: "r1", limit: 10).map(\.id) == ["c1"])
        let leftover = try await store.database.strings(
            "SELECT COUNT(*) FROM turn_metadata WHERE tenant = 't' AND conversation_id = 'c2'"
        )
        #expect(leftover == ["0"])
    }

    @Test func listKeepsCreationTimeAndTheLatestUpdate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SQLiteConversationStore(database: try directory.newDatabase())
        let t0 = Date(timeIntervalSince1970: 5_000)
        try await store.append(Turn(message: .user("1"), createdAt: t0), to: "c", tenant: "t")
        try await store.append(Turn(message: .user("2"), createdAt: t0 + 10), to: "c", tenant: "t")
        // A turn stamped earlier does not move the update time back (as in memory).
        try await store.append(Turn(message: .user("3"), createdAt: t0 + 5), to: "c", tenant: "t")
        let summary = try #require(try await store.list(tenant: "t", limit: 1, offset: 0).first)
        #expect(summary == ConversationSummary(id: "c", tenant: "t", turnCount: 3, createdAt: t0, updatedAt: t0 + 10))
        #expect(try await store.list(tenant: "t", limit: -1, offset: 0).isEmpty)
    }

    @Test func exportIsTheWholeConversationAsJSON() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SQLiteConversationStore(database: try directory.newDatabase())
        let t0 = Date(timeIntervalSince1970: 1_767_225_600.25)
        try await store.append(Turn(message: .user("hi ✓"), createdAt: t0), to: "c", tenant: "t")
        try await store.append(Turn(message: .assistant("hello"), model: "m", usage: Usage(inputTokens: 3, outputTokens: 1),
                                    createdAt: t0 + 1, metadata: ["k": "v"]), to: "c", tenant: "t")
        let data = try await store.export(conversationID: "c", tenant: "t")
        let json = try JSONValue(parsing: String(decoding: data, as: UTF8.self))
        #expect(json["id"] == "c")
        #expect(json["tenant"] == "t")
        #expect(json["createdAt"] == "2026-01-01T00:00:00.250Z")
        #expect(json["turns"]?.arrayValue?.count == 2)
        #expect(json["turns"]?[1]?["model"] == "m")
        #expect(json["turns"]?[1]?["metadata"] == ["k": "v"])
        #expect(json["turns"]?[1]?["sequence"] == 1)
        #expect(json["turns"]?[0]?["message"]?["role"] == "user")

        let missing = await #expect(throws: HarnessError.self) { try await store.export(conversationID: "c", tenant: "other") }
        #expect(missing?.code == .notFound)
    }

    /// Two pools on one file stand for two processes: their appends still get one total order.
    @Test func appendsFromTwoConnectionsPoolsGetOneOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("shared.sqlite")
        let stores = [
            SQLiteConversationStore(database: try SQLiteDatabase(path: path)),
            SQLiteConversationStore(database: try SQLiteDatabase(path: path)),
        ]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                let store = stores[task % 2]
                group.addTask {
                    for i in 0..<20 { try await store.append(Turn(message: .user("\(task):\(i)")), to: "c", tenant: "t") }
                }
            }
            try await group.waitForAll()
        }
        let turns = try await stores[0].load(conversationID: "c", tenant: "t", last: nil)
        #expect(turns.map(\.sequence) == Array(0..<160))
        #expect(Set(turns.map(\.message.text)).count == 160)
    }
}
