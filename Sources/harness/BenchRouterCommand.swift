//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Harness
import HarnessCore
import Foundation

/// Measures what routing and circuit breaking cost per request: router picks per strategy,
/// breaker admit + record, and a whole `Router.complete` over an instant model against a
/// direct call, each next to a no-op baseline loop in the same run.
struct BenchRouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-router",
        abstract: "Measure the router's decision and the breaker's bookkeeping per request (ns)."
    )

    @Option(help: "Operations per measurement.")
    var count: Int = 1_000_000

    @Option(help: "Routes in the router.")
    var routes: Int = 3

    func run() async throws {
        guard count >= 1, routes >= 1 else { throw ValidationError("count and routes must be at least 1") }
        let request = ModelRequest(model: "m", messages: [.user("How is the weather?")])
        let instant = InstantModel()
        var routeList: [Route] = []
        for i in 0..<routes {
            let scale = Double(i + 1)
            let price = ModelPrice(input: scale, output: 4 * scale)
            routeList.append(Route(name: "route-\(i)", model: instant, weight: scale, price: price))
        }
        let clock = ContinuousClock()
        let operations = Double(count)
        func nanos(_ d: Duration) -> Double {
            let seconds = Double(d.components.seconds)
            let atto = Double(d.components.attoseconds)
            let total: Double = seconds * 1e9 + atto / 1e9
            return total / operations
        }
        var sink = 0
        let baseline = clock.measure {
            for i in 0..<count { sink &+= i & 1 }
        }
        print("baseline (empty loop)           \(String(format: "%8.1f", nanos(baseline))) ns/op")
        for strategy in RoutingStrategy.allCases {
            let router = Router(name: "bench", routes: routeList, configuration: .init(strategy: strategy))
            let time = clock.measure {
                for _ in 0..<count { sink &+= router.pick(request).count }
            }
            print("pick \(strategy.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0))\(String(format: "%8.1f", nanos(time))) ns/op")
        }
        let breaker = CircuitBreaker(route: "bench")
        let breakerTime = clock.measure {
            for _ in 0..<count {
                if breaker.admit() == .admitted { breaker.recordSuccess(probe: false) }
            }
        }
        print("breaker admit + recordSuccess   \(String(format: "%8.1f", nanos(breakerTime))) ns/op")
        let failing = CircuitBreaker(route: "bench", configuration: .init(failureThreshold: .max, failureRateThreshold: nil))
        let failTime = clock.measure {
            for _ in 0..<count {
                _ = failing.admit()
                failing.recordFailure(probe: false)
            }
        }
        print("breaker admit + recordFailure   \(String(format: "%8.1f", nanos(failTime))) ns/op")
        // Whole calls: fewer, since each is async.
        let calls = max(1, count / 10)
        let router = Router(name: "bench", routes: routeList, configuration: .init(strategy: .fallback))
        let direct = try await clock.measure {
            for _ in 0..<calls { sink &+= try await instant.complete(request).message.text.count }
        }
        let routed = try await clock.measure {
            for _ in 0..<calls { sink &+= try await router.complete(request).message.text.count }
        }
        let perCall = { (d: Duration) in nanos(d) * Double(count) / Double(calls) }
        print("complete direct                 \(String(format: "%8.1f", perCall(direct))) ns/call")
        print("complete via router             \(String(format: "%8.1f", perCall(routed))) ns/call")
        print("router overhead per call        \(String(format: "%8.1f", perCall(routed) - perCall(direct))) ns/call")
        if sink == 42 { print("") }  // keeps the loops from being optimised away
    }
}

/// Answers at once.
struct InstantModel: LanguageModel {
    func complete(_ request: ModelRequest) async throws -> ModelResponse {
        ModelResponse(message: .assistant("ok"), finishReason: .stop)
    }

    func stream(_ request: ModelRequest) -> ModelEventStream {
        ModelEventStream(events: [.textDelta("ok"), .finish(.stop, requestID: nil)])
    }
}
