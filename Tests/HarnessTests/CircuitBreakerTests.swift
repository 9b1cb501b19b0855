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

@Suite struct CircuitBreakerTests {
    /// closed → open after N consecutive failures (fails fast) → half-open after the timeout
    /// with one probe at a time → a failed probe reopens → M successful probes close it.
    @Test func tripsFailsFastProbesAndCloses() {
        let clock = VirtualClock()
        let transitions = Mutex<[CircuitBreaker.Transition]>([])
        let breaker = CircuitBreaker(
            route: "primary",
            configuration: .init(failureThreshold: 3, failureRateThreshold: nil, openTimeout: .seconds(10), halfOpenProbes: 1, successThreshold: 2),
            clock: clock.clock,
            onTransition: { t in transitions.withLock { $0.append(t) } }
        )
        for _ in 0..<2 {
            #expect(breaker.admit() == .admitted)
            breaker.recordFailure(probe: false)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.admit() == .admitted)
        breaker.recordFailure(probe: false)
        #expect(breaker.state == .open)
        #expect(breaker.trips == 1)
        #expect(breaker.admit() == .rejected(retryIn: .seconds(10)))
        clock.advance(by: .seconds(4))
        #expect(breaker.admit() == .rejected(retryIn: .seconds(6)))
        clock.advance(by: .seconds(6))
        #expect(breaker.admit() == .probe)
        #expect(breaker.admit() == .probesTaken)
        breaker.recordFailure(probe: true)  // the probe failed: open again
        #expect(breaker.state == .open)
        #expect(breaker.trips == 2)
        clock.advance(by: .seconds(10))
        #expect(breaker.admit() == .probe)
        breaker.recordSuccess(probe: true)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit() == .probe)
        breaker.recordSuccess(probe: true)
        #expect(breaker.state == .closed)
        #expect(breaker.admit() == .admitted)
        #expect(transitions.withLock { $0.map(\.to) } == [.open, .halfOpen, .open, .halfOpen, .closed])
    }

    /// A success resets the consecutive count.
    @Test func successResetsTheCount() {
        let breaker = CircuitBreaker(route: "r", configuration: .init(failureThreshold: 3, failureRateThreshold: nil), clock: VirtualClock().clock)
        for _ in 0..<10 {
            breaker.recordFailure(probe: false)
            breaker.recordFailure(probe: false)
            breaker.recordSuccess(probe: false)
        }
        #expect(breaker.state == .closed)
    }

    /// A failure rate over the window trips it once the window holds the minimum calls.
    @Test func failureRateOverTheWindowTrips() {
        let clock = VirtualClock()
        let breaker = CircuitBreaker(
            route: "r",
            configuration: .init(failureThreshold: 100, failureRateThreshold: 0.5, window: .seconds(10), minimumRequests: 10),
            clock: clock.clock
        )
        // Alternating: 50% failures, never 2 in a row. Trips at the 10th call.
        for i in 0..<9 {
            if i % 2 == 0 { breaker.recordFailure(probe: false) } else { breaker.recordSuccess(probe: false) }
            clock.advance(by: .milliseconds(100))
        }
        #expect(breaker.state == .closed)
        breaker.recordSuccess(probe: false)
        breaker.recordFailure(probe: false)
        #expect(breaker.state == .open)
    }

    /// Old calls leave the sliding window.
    @Test func oldCallsLeaveTheWindow() {
        let clock = VirtualClock()
        let breaker = CircuitBreaker(
            route: "r",
            configuration: .init(failureThreshold: 100, failureRateThreshold: 0.5, window: .seconds(10), minimumRequests: 4),
            clock: clock.clock
        )
        breaker.recordFailure(probe: false)
        breaker.recordSuccess(probe: false)
        breaker.recordFailure(probe: false)
        clock.advance(by: .seconds(30))
        for _ in 0..<3 { breaker.recordSuccess(probe: false) }
        breaker.recordFailure(probe: false)  // 1 of 4 in the window
        #expect(breaker.state == .closed)
    }

    /// Only failures that say the upstream is unhealthy count.
    @Test func invalidRequestsDoNotCount() {
        let breaker = CircuitBreaker(route: "r", configuration: .init(failureThreshold: 2, failureRateThreshold: nil), clock: VirtualClock().clock)
        for _ in 0..<10 { breaker.record(UpstreamFailure.invalid, probe: false) }
        breaker.record(HarnessError(.invalidArgument, "bad"), probe: false)
        #expect(breaker.state == .closed)
        breaker.record(UpstreamFailure.server, probe: false)
        breaker.record(UpstreamFailure.server, probe: false)
        #expect(breaker.state == .open)
    }

    /// Through a router: an open breaker fails fast with circuitOpen naming the route, and
    /// the upstream is not called.
    @Test func openCircuitFailsFastWithAClearError() async throws {
        let clock = VirtualClock()
        let model = FlakyModel("down") { _ in .fail(.server) }
        let router = Router(
            name: "smart", routes: [Route(name: "down-route", model: model)],
            configuration: .init(retry: .none, circuitBreaker: .init(failureThreshold: 2, failureRateThreshold: nil, openTimeout: .seconds(30))),
            clock: clock.clock
        )
        for _ in 0..<2 { await #expect(throws: UpstreamFailure.self) { try await router.complete(plainRequest) } }
        #expect(model.callCount == 2)
        do {
            _ = try await router.complete(plainRequest)
            Issue.record("expected circuitOpen")
        } catch let error as HarnessError {
            #expect(error.code == .circuitOpen)
            #expect(error.message.contains("down-route"))
            #expect(error.retryAfter == .seconds(30))
        }
        #expect(model.callCount == 2)
    }
}
