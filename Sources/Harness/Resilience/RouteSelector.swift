//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import Synchronization

/// The mutable part of routing: the round-robin counter and the latency averages. Shared by
/// every call of one router; a short critical section per call.
final class RouteSelector: Sendable {
    private struct State {
        var next = 0
        var latency: [Double?]
    }

    let strategy: RoutingStrategy
    let smoothing: Double
    private let weights: [Double]
    private let prices: [ModelPrice?]
    private let capabilities: [ModelCapabilities]
    private let random: @Sendable () -> Double
    private let state: Mutex<State>

    init(routes: [Route], strategy: RoutingStrategy, smoothing: Double, random: @escaping @Sendable () -> Double) {
        self.strategy = strategy
        self.smoothing = min(max(smoothing, 0.01), 1)
        self.weights = routes.map(\.weight)
        self.prices = routes.map(\.price)
        self.capabilities = routes.map(\.capabilities)
        self.random = random
        self.state = Mutex(State(latency: Array(repeating: nil, count: routes.count)))
    }

    /// The order in which to try the routes that meet `requirements`, and those that do not.
    func order(_ requirements: RouteRequirements) -> (order: [Int], incapable: [Int]) {
        var capable: [Int] = []
        var incapable: [Int] = []
        capable.reserveCapacity(weights.count)
        for i in capabilities.indices {
            if requirements.isMet(by: capabilities[i]) { capable.append(i) } else { incapable.append(i) }
        }
        guard capable.count > 1 else { return (capable, incapable) }
        switch strategy {
        case .fallback:
            break
        case .roundRobin:
            let start = state.withLock { s in
                defer { s.next &+= 1 }
                return s.next
            }
            let k = start % capable.count
            capable = Array(capable[k...] + capable[..<k])
        case .weighted:
            let total = capable.reduce(0) { $0 + weights[$1] }
            if total > 0 {
                var x = random() * total
                var pick = capable.count - 1
                for (position, i) in capable.enumerated() {
                    x -= weights[i]
                    if x < 0 {
                        pick = position
                        break
                    }
                }
                let first = capable.remove(at: pick)
                capable.insert(first, at: 0)
            }
        case .leastLatency:
            let latency = state.withLock { $0.latency }
            capable.sort { a, b in (latency[a] ?? -1) < (latency[b] ?? -1) }
        case .costOptimized:
            capable.sort { a, b in
                switch (prices[a], prices[b]) {
                case (let pa?, let pb?): requirements.estimatedCost(pa) < requirements.estimatedCost(pb)
                case (.some, nil): true
                default: false
                }
            }
        }
        return (capable, incapable)
    }

    /// Takes in a measured latency of route `index` (exponentially weighted moving average).
    func recordLatency(_ latency: Duration, route index: Int) {
        let seconds = latency.seconds
        state.withLock { s in
            guard s.latency.indices.contains(index) else { return }
            if let old = s.latency[index] {
                s.latency[index] = old + smoothing * (seconds - old)
            } else {
                s.latency[index] = seconds
            }
        }
    }

    /// The moving averages, in seconds, by route index.
    var latencies: [Double?] { state.withLock { $0.latency } }
}
