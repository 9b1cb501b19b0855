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
import HarnessTesting
import Synchronization
import Testing

/// A clock the test moves by hand, in nanoseconds.
final class FakeClock: Sendable {
    private let nanoseconds: Mutex<UInt64>

    init(start: UInt64 = 1_000) {
        self.nanoseconds = Mutex(start)
    }

    var now: UInt64 { nanoseconds.withLock { $0 } }

    func advance(nanoseconds delta: UInt64) {
        nanoseconds.withLock { $0 += delta }
    }

    func advance(seconds: UInt64) {
        advance(nanoseconds: seconds * 1_000_000_000)
    }
}

@Suite struct LRUCacheTests {
    @Test func evictsTheLeastRecentlyUsedEntry() {
        let cache = LRUCache<String, Int>(capacity: 3)
        cache.set("a", 1)
        cache.set("b", 2)
        cache.set("c", 3)
        // Reading "a" makes it the most recently used, so "b" is now the oldest.
        #expect(cache.get("a") == 1)
        cache.set("d", 4)
        #expect(cache.get("b") == nil)
        #expect(cache.get("a") == 1)
        #expect(cache.get("c") == 3)
        #expect(cache.get("d") == 4)
        #expect(cache.count == 3)
    }

    @Test func overwritingRefreshesRecencyWithoutGrowing() {
        let cache = LRUCache<String, Int>(capacity: 2)
        cache.set("a", 1)
        cache.set("b", 2)
        cache.set("a", 10)  // "a" is now newest; "b" oldest
        #expect(cache.count == 2)
        cache.set("c", 3)
        #expect(cache.get("a") == 10)
        #expect(cache.get("b") == nil)
        #expect(cache.get("c") == 3)
        #expect(cache.statistics.evictions == 1)
    }

    @Test func capacityIsRespected() {
        let cache = LRUCache<Int, Int>(capacity: 10)
        for i in 0..<100 { cache.set(i, i * i) }
        #expect(cache.count == 10)
        #expect(cache.capacity == 10)
        for i in 0..<90 { #expect(cache.get(i) == nil, "key \(i) should have been evicted") }
        for i in 90..<100 { #expect(cache.get(i) == i * i) }
        #expect(cache.statistics.evictions == 90)

        // A capacity below one is raised to one.
        let tiny = LRUCache<String, Int>(capacity: 0)
        #expect(tiny.capacity == 1)
        tiny.set("x", 1)
        tiny.set("y", 2)
        #expect(tiny.count == 1)
        #expect(tiny.get("x") == nil)
        #expect(tiny.get("y") == 2)
    }

    @Test func removeAndRemoveAll() {
        let cache = LRUCache<String, Int>(capacity: 2)
        cache.set("a", 1)
        cache.set("b", 2)
        #expect(cache.remove("a"))
        #expect(!cache.remove("a"))
        #expect(cache.get("a") == nil)
        #expect(cache.count == 1)

        // The freed slot is reused, and recency still decides what goes.
        cache.set("c", 3)
        #expect(cache.count == 2)
        #expect(cache.statistics.evictions == 0)
        cache.set("d", 4)
        #expect(cache.get("b") == nil)
        #expect(cache.get("c") == 3)
        #expect(cache.get("d") == 4)

        cache.removeAll()
        #expect(cache.count == 0)
        #expect(cache.get("c") == nil)
        cache.set("e", 5)
        #expect(cache.get("e") == 5)
    }

    @Test func entriesExpireAfterTheirTTL() {
        let clock = FakeClock()
        let cache = LRUCache<String, Int>(capacity: 10, defaultTTL: .seconds(10)) { clock.now }
        cache.set("default", 1)  // lives 10 s
        cache.set("long", 2, ttl: .seconds(30))

        clock.advance(nanoseconds: 10_000_000_000 - 1)
        #expect(cache.get("default") == 1)  // one nanosecond before expiry
        clock.advance(nanoseconds: 1)
        #expect(cache.get("default") == nil)  // at expiry
        #expect(cache.get("long") == 2)
        #expect(cache.count == 1)  // the expired entry was dropped when touched

        clock.advance(seconds: 20)
        #expect(cache.get("long") == nil)
        #expect(cache.count == 0)
    }

    @Test func readingDoesNotExtendTheTTLButSettingAgainDoes() {
        let clock = FakeClock()
        let cache = LRUCache<String, Int>(capacity: 10, defaultTTL: nil) { clock.now }
        cache.set("k", 1, ttl: .seconds(5))
        clock.advance(seconds: 4)
        #expect(cache.get("k") == 1)
        clock.advance(seconds: 1)
        #expect(cache.get("k") == nil)

        cache.set("k", 1, ttl: .seconds(5))
        clock.advance(seconds: 4)
        cache.set("k", 2, ttl: .seconds(5))  // renewed: now lives until 4 + 5
        clock.advance(seconds: 4)
        #expect(cache.get("k") == 2)
        clock.advance(seconds: 1)
        #expect(cache.get("k") == nil)
    }

    @Test func entriesWithoutTTLNeverExpire() {
        let clock = FakeClock()
        let cache = LRUCache<String, Int>(capacity: 10, defaultTTL: nil) { clock.now }
        cache.set("k", 1)
        clock.advance(seconds: 10 * 365 * 86_400)
        #expect(cache.get("k") == 1)
    }

    @Test func statisticsCountHitsMissesAndEvictions() {
        let clock = FakeClock()
        let cache = LRUCache<String, Int>(capacity: 2, defaultTTL: nil) { clock.now }
        cache.set("a", 1)
        cache.set("b", 2)
        _ = cache.get("a")  // hit
        _ = cache.get("a")  // hit
        _ = cache.get("zzz")  // miss
        cache.set("c", 3)  // evicts "b"
        _ = cache.get("b")  // miss
        cache.set("short", 4, ttl: .seconds(1))  // evicts "a"
        clock.advance(seconds: 2)
        _ = cache.get("short")  // expired: a miss, not an eviction
        let stats = cache.statistics
        #expect(stats.hits == 2)
        #expect(stats.misses == 3)
        #expect(stats.evictions == 2)
    }

    @Test func concurrentUseKeepsTheCacheConsistent() async {
        let cache = LRUCache<Int, Int>(capacity: 64)
        let tasks = 8
        let perTask = 2_000
        let keys = 200
        let wrongValues = await withTaskGroup(of: Int.self, returning: Int.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var wrong = 0
                    for i in 0..<perTask {
                        let key = (t * 37 + i * 7) % keys
                        cache.set(key, key * 10)
                        let other = (key + t + 1) % keys
                        if let value = cache.get(other), value != other * 10 { wrong += 1 }
                        if i % 100 == 0 { cache.remove((key + 50) % keys) }
                    }
                    return wrong
                }
            }
            var total = 0
            for await wrong in group { total += wrong }
            return total
        }
        #expect(wrongValues == 0)
        let stats = cache.statistics
        #expect(stats.hits + stats.misses == tasks * perTask)
        #expect(cache.count <= 64)
        for key in 0..<keys {
            if let value = cache.get(key) { #expect(value == key * 10) }
        }
    }
}

@Suite struct CacheTests {
    @Test func inMemoryCacheKeepsTheCacheContract() async throws {
        try await CacheContract.run { InMemoryCache() }
    }

    @Test func inMemoryCacheEvictsBeyondItsCapacity() async throws {
        let cache = InMemoryCache(capacity: 2)
        try await cache.set("a", value: Data("1".utf8), ttl: nil)
        try await cache.set("b", value: Data("2".utf8), ttl: nil)
        try await cache.set("c", value: Data("3".utf8), ttl: nil)
        #expect(try await cache.get("a") == nil)
        #expect(try await cache.get("c") == Data("3".utf8))
        #expect(cache.lru.count == 2)
        #expect(cache.lru.statistics.evictions == 1)
    }

    // MARK: - Cache keys

    static func baseRequest() -> ModelRequest {
        ModelRequest(
            model: "model-a",
            system: "Be brief.",
            messages: [
                .user("What is the weather in Paris?"),
                .assistant("", toolCalls: [ToolCall(id: "c1", name: "get_weather", arguments: ["city": "Paris"])]),
                .tool(ToolResult(toolCallID: "c1", name: "get_weather", content: "21C")),
                .user("And tomorrow?"),
            ],
            tools: [
                ToolSpec(
                    name: "get_weather", description: "Weather for a city",
                    inputSchema: ["type": "object", "properties": ["city": ["type": "string"]]]
                )
            ],
            toolChoice: .auto,
            responseFormat: .text,
            options: GenerationOptions(temperature: 0.2, stopSequences: ["END"]),
            metadata: ["tenant": "a"]
        )
    }

    typealias Change = (inout ModelRequest) -> Void

    /// One change to each thing that determines the answer.
    static func variants() -> [(String, Change)] {
        var variants: [(String, Change)] = []
        variants.append(("model", { $0.model = "model-b" }))
        variants.append(("system", { $0.system = "Be verbose." }))
        variants.append(("no system", { $0.system = nil }))
        variants.append(("message text", { $0.messages[3] = .user("And the day after?") }))
        variants.append(("message role", { $0.messages[0].role = .assistant }))
        variants.append(("message name", { $0.messages[0].name = "alice" }))
        variants.append(("extra message", { $0.messages.append(.user("?")) }))
        variants.append(("tool schema", { $0.tools[0].inputSchema = ["type": "object", "properties": ["city": ["type": "integer"]]] }))
        variants.append(("tool description", { $0.tools[0].description = "Weather" }))
        variants.append(("tool name", { $0.tools[0].name = "weather" }))
        variants.append(("no tools", { $0.tools = [] }))
        variants.append(("tool choice required", { $0.toolChoice = .required }))
        variants.append(("tool choice none", { $0.toolChoice = .none }))
        variants.append(("tool choice named", { $0.toolChoice = .tool("get_weather") }))
        variants.append(("response format json", { $0.responseFormat = .jsonObject }))
        variants.append(("response format schema", { $0.responseFormat = .jsonSchema(name: "out", schema: ["type": "object"], strict: true) }))
        variants.append(("temperature", { $0.options.temperature = 0.3 }))
        variants.append(("no temperature", { $0.options.temperature = nil }))
        variants.append(("top p", { $0.options.topP = 0.9 }))
        variants.append(("max output tokens", { $0.options.maxOutputTokens = 100 }))
        variants.append(("seed", { $0.options.seed = 7 }))
        variants.append(("stop sequence", { $0.options.stopSequences = ["STOP"] }))
        variants.append(("extra stop sequence", { $0.options.stopSequences.append("STOP") }))
        variants.append(("tool-call argument", { $0.messages[1] = .assistant("", toolCalls: [ToolCall(id: "c1", name: "get_weather", arguments: ["city": "Rome"])]) }))
        variants.append(("tool-call id", { $0.messages[1] = .assistant("", toolCalls: [ToolCall(id: "c2", name: "get_weather", arguments: ["city": "Paris"])]) }))
        variants.append(("tool result", { $0.messages[2] = .tool(ToolResult(toolCallID: "c1", name: "get_weather", content: "22C")) }))
        variants.append(("tool result error flag", { $0.messages[2] = .tool(ToolResult(toolCallID: "c1", name: "get_weather", content: "21C", isError: true)) }))
        variants.append(("image", { $0.messages[3].content.append(.image(ImageContent(url: "https://example.com/a.png"))) }))
        return variants
    }

    @Test func cacheKeyChangesWithEverythingThatDeterminesTheAnswer() {
        let base = Self.baseRequest()
        let variants = Self.variants()
        var keys: [String: String] = ["base": base.cacheKey]
        for (name, change) in variants {
            var request = base
            change(&request)
            let key = request.cacheKey
            #expect(key != base.cacheKey, "changing the \(name) must change the key")
            if let other = keys.first(where: { $0.value == key }) {
                Issue.record("the \(name) variant has the same key as the \(other.key) variant")
            }
            keys[name] = key
        }
        #expect(keys.count == variants.count + 1)
    }

    @Test func cacheKeyIsStableForEqualRequestsAndIgnoresMetadata() {
        let a = Self.baseRequest()
        var b = Self.baseRequest()
        #expect(a.cacheKey == b.cacheKey)
        b.metadata = ["tenant": "b", "trace": "t-1"]
        #expect(a.cacheKey == b.cacheKey)
        // Key order in a schema does not matter: equal values, equal keys.
        b.tools[0].inputSchema = ["properties": ["city": ["type": "string"]], "type": "object"]
        #expect(a.cacheKey == b.cacheKey)
        // Nor does writing 1 as 1.0.
        let integral = ModelRequest(model: "m", messages: [], tools: [ToolSpec(name: "f", description: "", inputSchema: ["maxItems": 1])])
        let fractional = ModelRequest(model: "m", messages: [], tools: [ToolSpec(name: "f", description: "", inputSchema: ["maxItems": 1.0])])
        #expect(integral.cacheKey == fractional.cacheKey)

        let key = a.cacheKey
        let isHex = key.dropFirst(8).allSatisfy { "0123456789abcdef".contains($0) }
        #expect(key.hasPrefix("resp:v1:"))
        #expect(key.utf8.count == 8 + 64)
        #expect(isHex)
    }

    @Test func cacheKeyKeepsMessageBoundaries() {
        let one = ModelRequest(model: "m", messages: [.user("ab"), .user("c")])
        let two = ModelRequest(model: "m", messages: [.user("a"), .user("bc")])
        let three = ModelRequest(model: "m", messages: [.user("abc")])
        let injected = ModelRequest(model: "m", messages: [.user(#"a"},{"type":"text","text":"b"#)])
        let keys = Set([one, two, three, injected].map(\.cacheKey))
        #expect(keys.count == 4)
    }

    @Test func distinctQuestionsGetDistinctKeys() {
        var keys = Set<String>()
        for i in 0..<1000 {
            keys.insert(ModelRequest(model: "m", system: "s", messages: [.user("Question number \(i)?")]).cacheKey)
        }
        #expect(keys.count == 1000)
    }

    // MARK: - ResponseCache

    static func answer(_ text: String, _ reason: FinishReason) -> ModelResponse {
        ModelResponse(
            message: .assistant(text), finishReason: reason,
            usage: Usage(inputTokens: 3, outputTokens: 2), model: "m", requestID: "req"
        )
    }

    @Test func responseCacheNeverSharesAnEntryBetweenDifferentQuestions() async {
        let cache = ResponseCache(storage: InMemoryCache())
        let a = ModelRequest(model: "m", messages: [.user("question A")])
        let b = ModelRequest(model: "m", messages: [.user("question B")])
        await cache.set(a, Self.answer("answer A", .stop))
        #expect(await cache.get(b) == nil)
        #expect(await cache.get(a) == Self.answer("answer A", .stop))

        await cache.set(b, Self.answer("answer B", .stop))
        #expect(await cache.get(a)?.message.text == "answer A")
        #expect(await cache.get(b)?.message.text == "answer B")
    }

    @Test func responseCacheStoresOnlyFinishedAnswers() async {
        let cache = ResponseCache(storage: InMemoryCache())
        let reasons: [(FinishReason, Bool)] = [
            (.stop, true), (.toolCalls, true), (.length, false), (.contentFilter, false), (.other("error"), false),
        ]
        for (i, (reason, stored)) in reasons.enumerated() {
            let request = ModelRequest(model: "m", messages: [.user("question \(i)")])
            let response = ModelResponse(
                message: .assistant("text", toolCalls: reason == .toolCalls ? [ToolCall(id: "c", name: "f", arguments: [:])] : []),
                finishReason: reason
            )
            await cache.set(request, response)
            let cached = await cache.get(request)
            #expect((cached != nil) == stored, "finish reason \(reason)")
            if stored { #expect(cached == response) }
        }
    }

    @Test func responseCacheTreatsACorruptEntryAsAMiss() async throws {
        let storage = InMemoryCache()
        let cache = ResponseCache(storage: storage)
        let request = ModelRequest(model: "m", messages: [.user("q")])
        try await storage.set(request.cacheKey, value: Data("not json".utf8), ttl: nil)
        #expect(await cache.get(request) == nil)
    }

    @Test func responseCachePassesItsTTLToTheStorage() async {
        let storage = TTLRecordingCache()
        let cache = ResponseCache(storage: storage, ttl: .seconds(42))
        await cache.set(ModelRequest(model: "m", messages: [.user("q")]), Self.answer("a", .stop))
        let expected: [Duration?] = [.seconds(42)]
        #expect(storage.ttls == expected)
    }
}

/// A Cache that remembers the TTL of each `set`.
final class TTLRecordingCache: Cache {
    private let state = Mutex<(values: [String: Data], ttls: [Duration?])>((values: [:], ttls: []))

    var ttls: [Duration?] { state.withLock { $0.ttls } }

    func get(_ key: String) async throws -> Data? { state.withLock { $0.values[key] } }

    func set(_ key: String, value: Data, ttl: Duration?) async throws {
        state.withLock {
            $0.values[key] = value
            $0.ttls.append(ttl)
        }
    }

    func delete(_ key: String) async throws { state.withLock { _ = $0.values.removeValue(forKey: key) } }
}
