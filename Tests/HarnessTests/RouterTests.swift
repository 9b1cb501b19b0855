//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessCore
import HarnessTesting
import Synchronization
import Testing

@Suite struct RouterTests {
    static func routes(_ names: [String], weights: [Double]? = nil) -> [Route] {
        names.enumerated().map { i, name in
            Route(name: name, model: FlakyModel(name) { _ in .answer(name) }, weight: weights?[i] ?? 1)
        }
    }

    @Test func roundRobinCycles() {
        let router = Router(name: "m", routes: Self.routes(["a", "b", "c"]), configuration: .init(strategy: .roundRobin))
        let firsts = (0..<7).map { _ in router.pick(plainRequest)[0] }
        #expect(firsts == ["a", "b", "c", "a", "b", "c", "a"])
        #expect(router.pick(plainRequest) == ["b", "c", "a"])
    }

    /// 20 000 seeded picks with weights 6:3:1 land within 2 points of 60/30/10 %.
    @Test func weightedFollowsTheWeights() {
        let generator = Mutex(SplitMix64(seed: 42))
        let router = Router(
            name: "m", routes: Self.routes(["a", "b", "c"], weights: [6, 3, 1]), configuration: .init(strategy: .weighted),
            random: { generator.withLock { Double.random(in: 0..<1, using: &$0) } }
        )
        var counts: [String: Int] = [:]
        let n = 20_000
        for _ in 0..<n { counts[router.pick(plainRequest)[0], default: 0] += 1 }
        for (name, share) in [("a", 0.6), ("b", 0.3), ("c", 0.1)] {
            let got = Double(counts[name, default: 0]) / Double(n)
            #expect(abs(got - share) < 0.02, "\(name): \(got)")
        }
    }

    /// The route with the lower moving average of latency comes first.
    @Test func leastLatencyPrefersTheFaster() async throws {
        let clock = VirtualClock()
        let slow = SlowModel(name: "slow", delay: .milliseconds(300), clock: clock)
        let fast = SlowModel(name: "fast", delay: .milliseconds(20), clock: clock)
        let router = Router(
            name: "m", routes: [Route(name: "slow", model: slow), Route(name: "fast", model: fast)],
            configuration: .init(strategy: .leastLatency, hedgeDelay: nil), clock: clock.clock
        )
        // Unmeasured routes go first, so both get measured in the first two calls.
        var served: [String] = []
        for _ in 0..<6 { served.append(try await router.complete(plainRequest).message.text) }
        #expect(served.prefix(2).sorted() == ["fast", "slow"])
        #expect(served.suffix(4) == ["fast", "fast", "fast", "fast"])
    }

    /// The cheapest route that has the needed capabilities and is healthy comes first.
    @Test func costOptimizedPicksTheCheapestCapableHealthyRoute() async throws {
        func route(_ name: String, price: Double, tools: Bool = true, window: Int? = nil) -> Route {
            Route(
                name: name, model: FlakyModel(name) { _ in .answer(name) },
                capabilities: ModelCapabilities(toolCalling: tools, contextWindow: window),
                price: ModelPrice(input: price, output: price * 4)
            )
        }
        let health = HealthChecker(checks: ["cheap": { throw UpstreamFailure.server }, "mid": {}, "dear": {}, "no-tools": {}])
        let router = Router(
            name: "m",
            routes: [route("dear", price: 10), route("mid", price: 3), route("cheap", price: 1), route("no-tools", price: 0.1, tools: false)],
            configuration: .init(strategy: .costOptimized), health: health
        )
        let toolRequest = ModelRequest(model: "m", messages: [.user("hi")], tools: [ToolSpec(name: "t", description: "", inputSchema: ["type": "object"])])
        #expect(router.pick(toolRequest) == ["cheap", "mid", "dear"])
        #expect(router.pick(plainRequest) == ["no-tools", "cheap", "mid", "dear"])
        #expect(try await router.complete(toolRequest).message.text == "cheap")
        await health.checkAll()  // cheap is now unhealthy
        let response = try await router.complete(toolRequest)
        #expect(response.message.text == "mid")
        #expect(response.callReport?.attempts.map(\.outcome) == [.skippedIncapable, .skippedUnhealthy, .succeeded])
        // A context window too small for the request takes a route out too.
        let small = Router(name: "m", routes: [route("tiny", price: 0.01, window: 10), route("big", price: 5)], configuration: .init(strategy: .costOptimized))
        let long = ModelRequest(model: "m", messages: [.user(String(repeating: "word ", count: 100))])
        #expect(small.pick(long) == ["big"])
    }

    /// A retryable failure fails over to the next route at once (no backoff); a
    /// non-retryable one is thrown without trying the others.
    @Test func failsOverOnRetryableErrorsOnly() async throws {
        let clock = VirtualClock()
        let primary = FlakyModel("p") { _ in .fail(.server) }
        let secondary = FlakyModel("s") { _ in .answer("from s") }
        let router = Router(
            name: "m", routes: [Route(name: "p", model: primary), Route(name: "s", model: secondary)], clock: clock.clock
        )
        let response = try await router.complete(plainRequest)
        #expect(response.message.text == "from s")
        #expect(response.callReport?.servedBy == "s")
        #expect(clock.sleeps.isEmpty)
        let bad = FlakyModel("p") { _ in .fail(.invalid) }
        let other = FlakyModel("s") { _ in .answer("no") }
        let router2 = Router(name: "m", routes: [Route(name: "p", model: bad), Route(name: "s", model: other)], clock: clock.clock)
        await #expect(throws: UpstreamFailure.self) { try await router2.complete(plainRequest) }
        #expect(other.callCount == 0)
    }

    /// Run results collect the call reports of a router.
    @Test func runResultCollectsCallReports() async throws {
        let primary = FlakyModel("p") { n in n == 0 ? .fail(.server) : .answer("done") }
        let router = Router(name: "m", routes: [Route(name: "p", model: primary)], clock: VirtualClock().clock)
        let agent = Agent(name: "a", model: router, modelID: "m")
        let result = try await Orchestrator().run(agent, input: "hi")
        #expect(result.finalText == "done")
        #expect(result.callReports.count == 1)
        #expect(result.callReports.first?.retries == 1)
        var streamed: RunResult?
        for try await event in Orchestrator().stream(agent, input: "hi") {
            if case .finished(let r) = event { streamed = r }
        }
        #expect(streamed?.callReports.count == 1)
    }
}

/// A model that takes `delay` of virtual time per call.
struct SlowModel: LanguageModel {
    let name: String
    let delay: Duration
    let clock: VirtualClock

    var providerName: String { name }

    func complete(_ request: ModelRequest) async throws -> ModelResponse {
        clock.advance(by: delay)
        return ModelResponse(message: .assistant(name), finishReason: .stop)
    }

    func stream(_ request: ModelRequest) -> ModelEventStream {
        ModelEventStream(events: ModelResponse(message: .assistant(name), finishReason: .stop).streamEvents())
    }
}
