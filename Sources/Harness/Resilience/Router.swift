//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Synchronization

/// One logical model served by several routes (providers, regions, model versions), with
/// retry, circuit breakers, health checks, timeouts, hedging and stream resumption.
///
/// For each call the ``RoutingStrategy`` orders the routes; routes that lack a needed
/// capability, are unhealthy or whose breaker is open are passed over at once (no call, no
/// wait). A retryable failure moves the call to the next route right away; when every
/// route of the order failed, the call backs off as its ``RetryPolicy`` says and starts
/// over, until the attempts or the deadline run out. A failure that is not retryable (an
/// invalid request) is thrown at once.
///
/// Streams: a failure before the first event is delivered is invisible to the caller. A
/// failure after output was delivered is resumed, never restarted: the next attempt asks
/// the model to continue from the partial output, tool calls completed before the break
/// are kept and not delivered again, and the caller sees one stream with a
/// ``ModelStreamEvent/seam(_:)`` where the attempts join. No request is sent twice once a
/// byte of its answer was delivered, except as that explicit continuation.
///
/// Every call's ``CallReport`` is attached to the response of `complete` and handed to
/// ``CallReportCollector/current`` (streams included).
///
/// ```swift
/// let router = Router(name: "smart", routes: [
///     Route(name: "openai", model: openai, modelID: "gpt-4o"),
///     Route(name: "anthropic", model: anthropic, modelID: "claude-sonnet-4-5"),
/// ], configuration: .init(strategy: .fallback, retry: RetryPolicy(maxAttempts: 4)))
/// let answer = try await router.complete(request)
/// ```
public final class Router: LanguageModel, Sendable {
    /// How the router picks, retries and protects its routes.
    public struct Configuration: Sendable {
        public var strategy: RoutingStrategy
        public var retry: RetryPolicy
        /// One breaker per route with these settings; `nil` for none.
        public var circuitBreaker: CircuitBreaker.Configuration?
        /// Start the next route too if the first has not produced its first event (its
        /// answer, for `complete`) within this delay; the first to answer wins and the other
        /// is cancelled. `nil` for no hedging.
        public var hedgeDelay: Duration?
        /// The weight of a new latency sample in the least-latency moving average.
        public var latencySmoothing: Double
        /// The instruction sent with a broken stream's partial output to continue it.
        public var resumeInstruction: String

        public init(
            strategy: RoutingStrategy = .fallback,
            retry: RetryPolicy = RetryPolicy(),
            circuitBreaker: CircuitBreaker.Configuration? = CircuitBreaker.Configuration(),
            hedgeDelay: Duration? = nil,
            latencySmoothing: Double = 0.3,
            resumeInstruction: String = StreamContinuation.defaultInstruction
        ) {
            self.strategy = strategy
            self.retry = retry
            self.circuitBreaker = circuitBreaker
            self.hedgeDelay = hedgeDelay
            self.latencySmoothing = latencySmoothing
            self.resumeInstruction = resumeInstruction
        }
    }

    /// The logical model's name, for reports.
    public let name: String
    public let routes: [Route]
    public let configuration: Configuration
    /// Each route's breaker (by route index), if breakers are on.
    public let breakers: [CircuitBreaker?]
    let health: HealthChecker?
    let selector: RouteSelector
    let clock: ResilienceClock
    let random: @Sendable () -> Double

    /// - Parameters:
    ///   - name: the logical model's name.
    ///   - routes: the routes, in fallback order.
    ///   - configuration: strategy, retry, breakers, hedging.
    ///   - health: health checks whose unhealthy routes are passed over.
    ///   - clock: the time source (a virtual one in tests).
    ///   - random: uniform numbers in `[0, 1)` for jitter and weighted picks (seeded in tests).
    ///   - onBreakerTransition: called on each breaker state change (for metrics).
    public init(
        name: String,
        routes: [Route],
        configuration: Configuration = Configuration(),
        health: HealthChecker? = nil,
        clock: ResilienceClock = .continuous,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        onBreakerTransition: (@Sendable (CircuitBreaker.Transition) -> Void)? = nil
    ) {
        self.name = name
        self.routes = routes
        self.configuration = configuration
        self.health = health
        self.clock = clock
        self.random = random
        self.breakers = routes.map { route in
            configuration.circuitBreaker.map {
                CircuitBreaker(route: route.name, configuration: $0, clock: clock, onTransition: onBreakerTransition)
            }
        }
        self.selector = RouteSelector(
            routes: routes, strategy: configuration.strategy, smoothing: configuration.latencySmoothing, random: random
        )
    }

    public var providerName: String { "router" }

    /// What at least one route supports.
    public var capabilities: ModelCapabilities {
        ModelCapabilities(
            structuredOutput: routes.contains { $0.capabilities.structuredOutput },
            toolCalling: routes.contains { $0.capabilities.toolCalling },
            contextWindow: routes.compactMap(\.capabilities.contextWindow).max()
        )
    }

    /// The breaker of the route named `route`.
    public func breaker(for route: String) -> CircuitBreaker? {
        routes.firstIndex { $0.name == route }.flatMap { breakers[$0] }
    }

    /// The order in which a call with `request` would try the routes now (capable routes
    /// only; health and breakers are checked when each is reached). Advances round-robin.
    public func pick(_ request: ModelRequest) -> [String] {
        selector.order(RouteRequirements(request)).order.map { routes[$0].name }
    }

    /// The request as sent to route `index`.
    func routed(_ request: ModelRequest, _ index: Int) -> ModelRequest {
        guard let id = routes[index].modelID, id != request.model else { return request }
        var request = request
        request.model = id
        return request
    }

    // MARK: - complete

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        var trace = CallTrace(model: name, start: clock.now())
        do {
            var response = try await drive(request, trace: &trace) { index, hedge, trace in
                try await self.completeAttempt(request, index: index, hedge: hedge, trace: &trace)
            }
            let report = trace.report(clock.now(), failure: nil)
            response.callReport = report
            CallReportCollector.current?.record(report)
            return response
        } catch {
            CallReportCollector.current?.record(trace.report(clock.now(), failure: Self.code(of: error)))
            throw error
        }
    }

    /// One attempt of `complete` on route `index`, raced against a hedge if one is given.
    func completeAttempt(
        _ request: ModelRequest,
        index: Int,
        hedge: Admitted?,
        trace: inout CallTrace
    ) async throws -> Served<ModelResponse> {
        let timeout = attemptTimeout(trace)
        guard let hedge, let delay = configuration.hedgeDelay else {
            let start = clock.now()
            let response = try await withTimeout(timeout, route: routes[index].name) {
                try await self.routes[index].model.complete(self.routed(request, index))
            }
            selector.recordLatency(clock.now() - start, route: index)
            trace.firstEvent = trace.firstEvent ?? clock.now() - trace.start
            return Served(value: response, route: index, primaryLost: false)
        }
        // Hedged: the primary now, the hedge after `delay` unless the primary answered.
        let clock = self.clock
        let outcome = await withTaskGroup(of: HedgeResult<ModelResponse>.self) { group in
            group.addTask {
                let start = clock.now()
                do {
                    let r = try await self.withTimeout(timeout, route: self.routes[index].name) {
                        try await self.routes[index].model.complete(self.routed(request, index))
                    }
                    return .answered(index, r, clock.now() - start)
                } catch { return .failed(index, error, clock.now() - start) }
            }
            group.addTask {
                do { try await clock.sleep(delay) } catch { return .notStarted }
                guard hedge.admit() else { return .notStarted }
                let start = clock.now()
                do {
                    let r = try await self.withTimeout(timeout, route: self.routes[hedge.index].name) {
                        try await self.routes[hedge.index].model.complete(self.routed(request, hedge.index))
                    }
                    return .answered(hedge.index, r, clock.now() - start)
                } catch { return .failed(hedge.index, error, clock.now() - start) }
            }
            var results: [HedgeResult<ModelResponse>] = []
            while let result = await group.next() {
                results.append(result)
                if case .answered = result { group.cancelAll() }
                // The primary failed before the hedge started: fail over now instead of waiting.
                if case .failed(let i, _, _) = result, i == index, !hedge.started.0 { group.cancelAll() }
                if case .failed(let i, _, _) = result, i == hedge.index { group.cancelAll() }
            }
            return results
        }
        return try settleHedge(outcome, primary: index, hedge: hedge, trace: &trace)
    }

    /// A route admitted by its breaker for a hedge, which is only called if the hedge starts.
    final class Admitted: Sendable {
        let index: Int
        let breaker: CircuitBreaker?
        private let probe: Mutex<Bool?>

        init(index: Int, breaker: CircuitBreaker?) {
            self.index = index
            self.breaker = breaker
            self.probe = Mutex(nil)
        }

        /// Asks the breaker when the hedge is about to start.
        func admit() -> Bool {
            guard let breaker else {
                probe.withLock { $0 = false }
                return true
            }
            let admission = breaker.admit()
            guard admission.isAllowed else { return false }
            probe.withLock { $0 = admission == .probe }
            return true
        }

        /// Whether it started, and as a probe.
        var started: (Bool, probe: Bool) {
            let p = probe.withLock { $0 }
            return (p != nil, p ?? false)
        }
    }

    enum HedgeResult<T: Sendable>: Sendable {
        case answered(Int, T, Duration)
        case failed(Int, any Error, Duration)
        case notStarted
    }

    /// What an attempt produced and which route produced it (the hedge, if it won).
    struct Served<T> {
        var value: T
        var route: Int
        /// The primary lost the race to its hedge and was cancelled.
        var primaryLost: Bool
    }

    /// Turns the results of a hedged attempt into the winner, recording the hedge's own
    /// report entry and breaker outcome (the primary's are recorded by the caller).
    func settleHedge<T: Sendable>(
        _ results: [HedgeResult<T>],
        primary: Int,
        hedge: Admitted,
        trace: inout CallTrace
    ) throws -> Served<T> {
        var winner: (index: Int, value: T)?
        var primaryError: (any Error)?
        var hedgeError: (any Error)?
        for case .answered(let i, let value, _) in results where winner == nil { winner = (i, value) }
        let hedgeProbe = hedge.started.probe
        for result in results {
            switch result {
            case .answered(let i, _, let d):
                selector.recordLatency(d, route: i)
                guard i == hedge.index, i != primary else { continue }
                breakers[i]?.recordSuccess(probe: hedgeProbe)
                trace.add(.init(route: routes[i].name, outcome: .succeeded, duration: d, probe: hedgeProbe, hedge: true))
            case .failed(let i, let error, let d):
                let lost = winner != nil && winner?.index != i
                if i == hedge.index, i != primary {
                    if lost { breakers[i]?.recordNeutral(probe: hedgeProbe) } else { breakers[i]?.record(error, probe: hedgeProbe) }
                    trace.add(.init(
                        route: routes[i].name, outcome: lost ? .cancelledHedgeLoser : .failed,
                        errorCode: lost ? nil : Self.code(of: error), duration: d, probe: hedgeProbe, hedge: true
                    ))
                    hedgeError = error
                } else if !lost {
                    primaryError = error
                }
            case .notStarted:
                break
            }
        }
        guard let winner else {
            throw primaryError ?? hedgeError ?? HarnessError(.unavailable, "the hedged attempt produced nothing")
        }
        trace.firstEvent = trace.firstEvent ?? clock.now() - trace.start
        return Served(value: winner.value, route: winner.index, primaryLost: winner.index != primary)
    }

    // MARK: - Timeouts

    /// The timeout of the next attempt: the policy's, shortened to the time left before the
    /// deadline. Without an attempt timeout, the deadline only decides whether another
    /// attempt starts; it does not cut an attempt short.
    func attemptTimeout(_ trace: CallTrace) -> Duration? {
        guard let timeout = configuration.retry.attemptTimeout else { return nil }
        guard let deadline = configuration.retry.deadline else { return timeout }
        return min(timeout, max(deadline - (clock.now() - trace.start), .zero))
    }

    /// Runs `body`, failing with a retryable ``HarnessError/Code/timeout`` after `timeout`.
    func withTimeout<T: Sendable>(
        _ timeout: Duration?,
        route: String,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let timeout else { return try await body() }
        let clock = self.clock
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await clock.sleep(max(timeout, .zero))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw HarnessError(.timeout, "route '\(route)' did not answer within \(timeout)")
            }
            return value
        }
    }

    static func code(of error: any Error) -> String {
        if error is CancellationError { return "cancelled" }
        if let classified = error as? any RetryClassifiable { return classified.failureCode }
        return "error"
    }
}
