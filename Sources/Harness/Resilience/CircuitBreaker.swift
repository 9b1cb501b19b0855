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

/// A circuit breaker for one route: stops calling an upstream that keeps failing, and lets
/// a few probes through after a pause to find out whether it recovered.
///
/// - **closed**: calls pass. After `failureThreshold` consecutive failures, or a failure rate
///   of at least `failureRateThreshold` over the sliding `window` once it holds
///   `minimumRequests` calls, it opens (a *trip*).
/// - **open**: calls are refused at once (the router moves to the next route without
///   calling this one) until `openTimeout` has passed; then it is half-open.
/// - **half-open**: at most `halfOpenProbes` calls at a time are admitted as probes;
///   `successThreshold` successful probes close it, one failed probe opens it again.
///
/// Only failures that say the upstream is unhealthy count (see
/// ``RetryClassifiable/indicatesUnhealthyUpstream``): a 400 or a prompt over the context
/// window does not. Bookkeeping is a short critical section under a `Mutex`, with no
/// allocation per call. State changes are passed to `onTransition` (outside the lock), for
/// the `circuit_breaker_state` gauge and `circuit_breaker_trips_total` counter.
public final class CircuitBreaker: Sendable {
    /// When a breaker opens and how it recovers.
    public struct Configuration: Sendable, Hashable {
        /// Consecutive failures that open a closed breaker.
        public var failureThreshold: Int
        /// A failure rate (0…1) over `window` that opens it; `nil` to use only the count.
        public var failureRateThreshold: Double?
        /// The sliding window of the failure rate.
        public var window: Duration
        /// Calls the window must hold before the rate is judged.
        public var minimumRequests: Int
        /// How long an open breaker refuses calls before admitting probes.
        public var openTimeout: Duration
        /// Probes admitted at a time while half-open.
        public var halfOpenProbes: Int
        /// Successful probes that close a half-open breaker.
        public var successThreshold: Int

        public init(
            failureThreshold: Int = 5,
            failureRateThreshold: Double? = 0.5,
            window: Duration = .seconds(60),
            minimumRequests: Int = 20,
            openTimeout: Duration = .seconds(30),
            halfOpenProbes: Int = 1,
            successThreshold: Int = 2
        ) {
            self.failureThreshold = max(1, failureThreshold)
            self.failureRateThreshold = failureRateThreshold
            self.window = window
            self.minimumRequests = max(1, minimumRequests)
            self.openTimeout = openTimeout
            self.halfOpenProbes = max(1, halfOpenProbes)
            self.successThreshold = max(1, successThreshold)
        }
    }

    /// The breaker's state.
    public enum State: String, Sendable, Hashable, Codable {
        case closed, open, halfOpen = "half_open"

        /// The value of the `circuit_breaker_state` gauge: 0 closed, 1 half-open, 2 open
        /// (rising with severity; the same as ``HarnessMetrics/BreakerState``).
        public var gaugeValue: Int {
            switch self {
            case .closed: 0
            case .halfOpen: 1
            case .open: 2
            }
        }

        /// The state as the metrics report it.
        public var metricsState: HarnessMetrics.BreakerState {
            switch self {
            case .closed: .closed
            case .halfOpen: .halfOpen
            case .open: .open
            }
        }
    }

    /// A change of state.
    public struct Transition: Sendable, Hashable {
        public var route: String
        public var from: State
        public var to: State
        /// Why: `consecutive failures`, `failure rate`, `open timeout passed`, `probe failed`,
        /// `probes succeeded`.
        public var reason: String
        /// Whether this transition is a trip (into `open`).
        public var isTrip: Bool { to == .open }
    }

    /// The answer to a request to call the route.
    public enum Admission: Sendable, Hashable {
        /// Closed: call.
        case admitted
        /// Half-open: call, as a probe; report its outcome with `probe: true`.
        case probe
        /// Open: do not call; it may be tried again after this long.
        case rejected(retryIn: Duration)
        /// Half-open with every probe slot taken: do not call.
        case probesTaken

        /// Whether the call may be made.
        public var isAllowed: Bool {
            switch self {
            case .admitted, .probe: true
            case .rejected, .probesTaken: false
            }
        }
    }

    private struct Bucket {
        var epoch: Int64 = -1
        var calls: Int32 = 0
        var failures: Int32 = 0
    }

    private struct Storage {
        var state: State = .closed
        var consecutiveFailures = 0
        var openedAt: Duration = .zero
        var probesInFlight = 0
        var probeSuccesses = 0
        var trips = 0
        var buckets: [Bucket]
    }

    private static let bucketCount = 10

    /// The route this breaker guards.
    public let route: String
    public let configuration: Configuration
    private let clock: ResilienceClock
    private let bucketWidth: Double
    private let onTransition: (@Sendable (Transition) -> Void)?
    private let storage: Mutex<Storage>

    /// - Parameters:
    ///   - route: the route's name, for errors and transitions.
    ///   - configuration: thresholds and timeouts.
    ///   - clock: the time source (a virtual one in tests).
    ///   - onTransition: called after each change of state, outside the lock.
    public init(
        route: String,
        configuration: Configuration = Configuration(),
        clock: ResilienceClock = .continuous,
        onTransition: (@Sendable (Transition) -> Void)? = nil
    ) {
        self.route = route
        self.configuration = configuration
        self.clock = clock
        self.bucketWidth = max(configuration.window.seconds / Double(Self.bucketCount), 1e-6)
        self.onTransition = onTransition
        self.storage = Mutex(Storage(buckets: Array(repeating: Bucket(), count: Self.bucketCount)))
    }

    /// The current state (an open breaker whose timeout passed reads as half-open).
    public var state: State {
        let now = clock.now()
        return storage.withLock { s in
            if s.state == .open, now - s.openedAt >= configuration.openTimeout { return .halfOpen }
            return s.state
        }
    }

    /// Times the breaker opened.
    public var trips: Int { storage.withLock { $0.trips } }

    /// Asks whether the route may be called now. A call that is admitted must be followed by
    /// exactly one of ``recordSuccess(probe:)``, ``recordFailure(probe:)`` or
    /// ``recordNeutral(probe:)``.
    public func admit() -> Admission {
        let now = clock.now()
        var transition: Transition?
        let admission = storage.withLock { s -> Admission in
            switch s.state {
            case .closed:
                return .admitted
            case .open:
                let waited = now - s.openedAt
                guard waited >= configuration.openTimeout else { return .rejected(retryIn: configuration.openTimeout - waited) }
                s.state = .halfOpen
                s.probesInFlight = 0
                s.probeSuccesses = 0
                transition = Transition(route: route, from: .open, to: .halfOpen, reason: "open timeout passed")
                fallthrough
            case .halfOpen:
                guard s.probesInFlight < configuration.halfOpenProbes else { return .probesTaken }
                s.probesInFlight += 1
                return .probe
            }
        }
        if let transition { onTransition?(transition) }
        return admission
    }

    /// The admitted call succeeded.
    public func recordSuccess(probe: Bool) {
        let now = clock.now()
        var transition: Transition?
        storage.withLock { s in
            switch s.state {
            case .closed:
                s.consecutiveFailures = 0
                count(&s, failed: false, now: now)
            case .halfOpen where probe:
                s.probesInFlight = max(0, s.probesInFlight - 1)
                s.probeSuccesses += 1
                if s.probeSuccesses >= configuration.successThreshold {
                    s.state = .closed
                    s.consecutiveFailures = 0
                    for i in s.buckets.indices { s.buckets[i] = Bucket() }
                    transition = Transition(route: route, from: .halfOpen, to: .closed, reason: "probes succeeded")
                }
            case .halfOpen, .open:
                break  // a call admitted before the breaker opened: says nothing new
            }
        }
        if let transition { onTransition?(transition) }
    }

    /// The admitted call failed in a way that says the upstream is unhealthy.
    public func recordFailure(probe: Bool) {
        let now = clock.now()
        var transition: Transition?
        storage.withLock { s in
            switch s.state {
            case .closed:
                s.consecutiveFailures += 1
                count(&s, failed: true, now: now)
                var reason: String?
                if s.consecutiveFailures >= configuration.failureThreshold {
                    reason = "\(s.consecutiveFailures) consecutive failures"
                } else if let threshold = configuration.failureRateThreshold {
                    let (calls, failures) = windowCounts(s, now: now)
                    if calls >= configuration.minimumRequests, Double(failures) >= threshold * Double(calls) {
                        reason = "failure rate \(failures)/\(calls) over \(configuration.window)"
                    }
                }
                if let reason {
                    open(&s, now: now)
                    transition = Transition(route: route, from: .closed, to: .open, reason: reason)
                }
            case .halfOpen where probe:
                open(&s, now: now)
                transition = Transition(route: route, from: .halfOpen, to: .open, reason: "probe failed")
            case .halfOpen, .open:
                break
            }
        }
        if let transition { onTransition?(transition) }
    }

    /// The admitted call ended in a way that says nothing about the upstream's health (it
    /// was cancelled, or the request was refused as invalid): a probe slot is freed.
    public func recordNeutral(probe: Bool) {
        guard probe else { return }
        storage.withLock { s in
            if s.state == .halfOpen { s.probesInFlight = max(0, s.probesInFlight - 1) }
        }
    }

    /// Records the outcome of an admitted call from its error (`nil` for success).
    public func record(_ error: (any Error)?, probe: Bool) {
        guard let error else { return recordSuccess(probe: probe) }
        if let classified = error as? any RetryClassifiable, classified.indicatesUnhealthyUpstream {
            recordFailure(probe: probe)
        } else {
            recordNeutral(probe: probe)
        }
    }

    /// The error an open breaker fails fast with.
    public func openError(retryIn: Duration?) -> HarnessError {
        var message = "the circuit breaker of route '\(route)' is open"
        if let retryIn { message += "; it admits a probe in \(retryIn)" } else { message += "; its probes are taken" }
        return HarnessError(.circuitOpen, message, retryAfter: retryIn)
    }

    private func open(_ s: inout Storage, now: Duration) {
        s.state = .open
        s.openedAt = now
        s.trips += 1
        s.probesInFlight = 0
        s.probeSuccesses = 0
    }

    private func epoch(_ now: Duration) -> Int64 {
        Int64(now.seconds / bucketWidth)
    }

    private func count(_ s: inout Storage, failed: Bool, now: Duration) {
        let e = epoch(now)
        let i = Int(e % Int64(Self.bucketCount))
        if s.buckets[i].epoch != e { s.buckets[i] = Bucket(epoch: e) }
        s.buckets[i].calls += 1
        if failed { s.buckets[i].failures += 1 }
    }

    private func windowCounts(_ s: Storage, now: Duration) -> (calls: Int, failures: Int) {
        let e = epoch(now)
        var calls = 0, failures = 0
        for bucket in s.buckets where bucket.epoch > e - Int64(Self.bucketCount) {
            calls += Int(bucket.calls)
            failures += Int(bucket.failures)
        }
        return (calls, failures)
    }
}
