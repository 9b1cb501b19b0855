//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore

/// What a call did so far, for its ``CallReport``.
struct CallTrace: Sendable {
    let model: String
    let start: Duration
    var attempts: [CallReport.Attempt] = []
    var servedBy: String?
    var firstEvent: Duration?
    var resumptions = 0
    /// Whether a stream delivered output (no hedging once it has).
    var deliveredOutput = false

    init(model: String, start: Duration) {
        self.model = model
        self.start = start
    }

    mutating func add(_ attempt: CallReport.Attempt) { attempts.append(attempt) }

    func report(_ now: Duration, failure: String?) -> CallReport {
        CallReport(
            model: model, servedBy: failure == nil ? servedBy : nil, attempts: attempts, resumptions: resumptions,
            timeToFirstEvent: firstEvent, total: now - start, failure: failure
        )
    }
}

extension Router {
    /// The loop shared by `complete` and `stream`: orders the routes, passes over those that
    /// are incapable, unhealthy or open, calls `attempt` on the others in turn, fails over on
    /// retryable errors, and backs off between rounds as the retry policy says.
    func drive<T>(
        _ request: ModelRequest,
        trace: inout CallTrace,
        canHedge: (CallTrace) -> Bool = { _ in true },
        attempt: (_ index: Int, _ hedge: Admitted?, _ trace: inout CallTrace) async throws -> Served<T>
    ) async throws -> T {
        let requirements = RouteRequirements(request)
        let policy = configuration.retry
        var calls = 0
        var round = 0
        var delay = Duration.zero
        var lastError: (any Error)?
        while true {
            let (order, incapable) = selector.order(requirements)
            if round == 0 {
                for i in incapable { trace.add(.init(route: routes[i].name, outcome: .skippedIncapable)) }
            }
            guard !order.isEmpty else {
                throw HarnessError(.unavailable, "no route of '\(name)' can serve the request (it needs tools, structured output or a larger context)")
            }
            var called = false
            var soonest: Duration?
            var position = 0
            while position < order.count {
                let i = order[position]
                position += 1
                let route = routes[i].name
                if let health, !health.isHealthy(route) {
                    trace.add(.init(route: route, outcome: .skippedUnhealthy))
                    continue
                }
                var probe = false
                if let breaker = breakers[i] {
                    switch breaker.admit() {
                    case .admitted: break
                    case .probe: probe = true
                    case .rejected(let retryIn):
                        trace.add(.init(route: route, outcome: .skippedCircuitOpen))
                        soonest = min(soonest ?? retryIn, retryIn)
                        continue
                    case .probesTaken:
                        trace.add(.init(route: route, outcome: .skippedProbesTaken))
                        continue
                    }
                }
                var hedge: Admitted?
                if configuration.hedgeDelay != nil, canHedge(trace),
                    let j = order[position...].first(where: { isCallable($0) })
                {
                    hedge = Admitted(index: j, breaker: breakers[j])
                }
                called = true
                calls += 1
                let start = clock.now()
                do {
                    let served = try await attempt(i, hedge, &trace)
                    let duration = clock.now() - start
                    if served.primaryLost {
                        breakers[i]?.recordNeutral(probe: probe)
                        trace.add(.init(route: route, outcome: .cancelledHedgeLoser, delayBefore: delay, duration: duration, probe: probe))
                    } else {
                        breakers[i]?.recordSuccess(probe: probe)
                        trace.add(.init(
                            route: route, outcome: .succeeded, delayBefore: delay, duration: duration, probe: probe,
                            resumed: trace.resumptions > 0
                        ))
                    }
                    trace.servedBy = routes[served.route].name
                    return served.value
                } catch {
                    breakers[i]?.record(error, probe: probe)
                    let cancelled = error is CancellationError || Task.isCancelled
                    trace.add(.init(
                        route: route, outcome: cancelled ? .cancelled : .failed, errorCode: Self.code(of: error),
                        delayBefore: delay, duration: clock.now() - start, probe: probe, resumed: trace.resumptions > 0
                    ))
                    delay = .zero
                    if cancelled { throw error }
                    guard let classified = error as? any RetryClassifiable, classified.isRetryable else { throw error }
                    lastError = error
                    if calls >= policy.maxAttempts { throw error }
                }
            }
            guard called, let failure = lastError else {
                if let soonest {
                    throw HarnessError(
                        .circuitOpen,
                        "every route of '\(name)' is open or unhealthy (\(trace.skipSummary)); the first admits a probe in \(soonest)",
                        retryAfter: soonest
                    )
                }
                throw HarnessError(.unavailable, "every route of '\(name)' is unhealthy or busy probing (\(trace.skipSummary))")
            }
            round += 1
            let unit = random()
            switch policy.decide(after: failure, attempts: calls, retry: round, elapsed: clock.now() - trace.start, unit: unit) {
            case .retry(let after):
                try await clock.sleep(after)
                delay = after
            case .giveUp:
                throw failure
            }
        }
    }

    /// Whether route `index` could be called now (healthy, breaker not open), without
    /// taking a probe slot.
    func isCallable(_ index: Int) -> Bool {
        if let health, !health.isHealthy(routes[index].name) { return false }
        if let breaker = breakers[index], breaker.state != .closed { return false }
        return true
    }
}

extension CallTrace {
    /// `route: outcome` of the steps so far, for error messages.
    var skipSummary: String {
        attempts.map { "\($0.route): \($0.outcome.rawValue)" }.joined(separator: ", ")
    }
}
