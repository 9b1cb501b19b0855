//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How one model call was served: which route answered, every attempt with its outcome
/// and the delay before it, the circuit breaker's decisions, hedges, resumptions and the
/// timing split.
///
/// Resilience wrappers (`Router`, `RetryingModel` in `Harness`) attach it to the
/// ``ModelResponse`` of `complete` and hand it to the task's report collector for streams;
/// a run collects one per model call in its result.
public struct CallReport: Sendable, Hashable, Codable {
    /// One step of a call: an upstream call, or a route passed over.
    public struct Attempt: Sendable, Hashable, Codable {
        /// What came of one step.
        public enum Outcome: String, Sendable, Hashable, Codable {
            /// The route answered (or, for a stream, delivered its whole answer).
            case succeeded
            /// The route failed; ``Attempt/errorCode`` says how.
            case failed
            /// Not called: its circuit breaker is open.
            case skippedCircuitOpen
            /// Not called: its circuit breaker is half-open and its probes are taken.
            case skippedProbesTaken
            /// Not called: the health check marks it unhealthy.
            case skippedUnhealthy
            /// Not called: it lacks a capability the request needs.
            case skippedIncapable
            /// A hedge that lost the race to the first event and was cancelled.
            case cancelledHedgeLoser
            /// Cancelled with the call.
            case cancelled

            /// Whether the step was an upstream call (not a skip).
            public var isCall: Bool {
                switch self {
                case .succeeded, .failed, .cancelledHedgeLoser, .cancelled: true
                case .skippedCircuitOpen, .skippedProbesTaken, .skippedUnhealthy, .skippedIncapable: false
                }
            }
        }

        /// The route's name.
        public var route: String
        public var outcome: Outcome
        /// The failure code (`rate_limited`, `timeout`, `connection`, …) when it failed.
        public var errorCode: String?
        /// How long the call waited (backoff, `Retry-After`) before this step.
        public var delayBefore: Duration
        /// How long the upstream call took (zero when skipped).
        public var duration: Duration
        /// Whether the breaker admitted it as a half-open probe.
        public var probe: Bool
        /// Whether it was started as a hedge, in parallel with an earlier attempt.
        public var hedge: Bool
        /// Whether it continued a broken stream from its partial output.
        public var resumed: Bool

        public init(
            route: String,
            outcome: Outcome,
            errorCode: String? = nil,
            delayBefore: Duration = .zero,
            duration: Duration = .zero,
            probe: Bool = false,
            hedge: Bool = false,
            resumed: Bool = false
        ) {
            self.route = route
            self.outcome = outcome
            self.errorCode = errorCode
            self.delayBefore = delayBefore
            self.duration = duration
            self.probe = probe
            self.hedge = hedge
            self.resumed = resumed
        }
    }

    /// The logical model or wrapper that made the call.
    public var model: String
    /// The route that served the call (the last one, for a resumed stream); `nil` if none did.
    public var servedBy: String?
    /// Every step, in order.
    public var attempts: [Attempt]
    /// Upstream calls made (skips not counted).
    public var calls: Int { attempts.filter(\.outcome.isCall).count }
    /// Retries: upstream calls after the first.
    public var retries: Int { max(0, calls - 1) }
    /// Whether a hedge was started.
    public var hedged: Bool { attempts.contains { $0.hedge } }
    /// Times a broken stream was resumed.
    public var resumptions: Int
    /// From the call to its first event (streams) or its answer (complete).
    public var timeToFirstEvent: Duration?
    /// From the call to its end.
    public var total: Duration
    /// The final failure code, when the call failed.
    public var failure: String?

    public init(
        model: String,
        servedBy: String? = nil,
        attempts: [Attempt] = [],
        resumptions: Int = 0,
        timeToFirstEvent: Duration? = nil,
        total: Duration = .zero,
        failure: String? = nil
    ) {
        self.model = model
        self.servedBy = servedBy
        self.attempts = attempts
        self.resumptions = resumptions
        self.timeToFirstEvent = timeToFirstEvent
        self.total = total
        self.failure = failure
    }
}
