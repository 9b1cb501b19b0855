//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore

/// When and how often a failed model call is tried again: exponential backoff with full
/// jitter, capped, within a total deadline, honouring the upstream's `Retry-After`.
///
/// Retry `n` (the first retry is 1) waits a random time in `[0, cap(n)]` with
/// `cap(n) = min(maxDelay, baseDelay × factor^(n-1))` ("full jitter", so that many clients
/// failing together do not retry together). When the error carries a `retryAfter`, the wait
/// is at least that long, even past `maxDelay`; if that would end past the deadline, the
/// call gives up at once instead of sleeping in vain. Only errors that are
/// RetryClassifiable and retryable are retried.
///
/// ```swift
/// let model = RetryingModel(openai, policy: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(200)))
/// ```
public struct RetryPolicy: Sendable, Hashable {
    /// Upstream calls at most, the first included (1 means no retry).
    public var maxAttempts: Int
    /// The cap of the first retry's delay.
    public var baseDelay: Duration
    /// How much the cap grows per retry.
    public var factor: Double
    /// The largest cap (a `Retry-After` may ask for longer).
    public var maxDelay: Duration
    /// The whole call, retries and waits included, must end within this; `nil` for none.
    public var deadline: Duration?
    /// One attempt's limit: its whole duration for `complete`, the wait for the first event
    /// and between events for `stream`; `nil` for none.
    public var attemptTimeout: Duration?

    public init(
        maxAttempts: Int = 3,
        baseDelay: Duration = .milliseconds(250),
        factor: Double = 2,
        maxDelay: Duration = .seconds(20),
        deadline: Duration? = .seconds(120),
        attemptTimeout: Duration? = nil
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.factor = max(1, factor)
        self.maxDelay = maxDelay
        self.deadline = deadline
        self.attemptTimeout = attemptTimeout
    }

    /// No retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// What to do after a failure.
    public enum Decision: Sendable, Hashable {
        /// Try again after this delay.
        case retry(after: Duration)
        /// Stop; the reason is for reports and logs.
        case giveUp(String)
    }

    /// The largest backoff of retry `retry` (1-based): `min(maxDelay, baseDelay × factor^(retry-1))`.
    public func backoffCap(retry: Int) -> Duration {
        let limit = maxDelay.seconds
        var cap = baseDelay.seconds
        var n = 1
        while n < retry, cap < limit {
            cap *= factor
            n += 1
        }
        return cap >= limit ? maxDelay : .seconds(cap)
    }

    /// The full-jitter backoff of retry `retry`: `unit` (uniform in `[0, 1)`) times the cap.
    public func backoff(retry: Int, unit: Double) -> Duration {
        .seconds(backoffCap(retry: retry).seconds * min(max(unit, 0), 1))
    }

    /// Whether and when to retry after `error`.
    /// - Parameters:
    ///   - error: the failure.
    ///   - attempts: upstream calls made so far (at least 1).
    ///   - retry: the number of the retry being considered, for the backoff exponent
    ///     (equal to `attempts` for a single route; a router counts rounds over its routes).
    ///   - elapsed: time since the call began.
    ///   - unit: a uniform random number in `[0, 1)` for the jitter.
    public func decide(after error: any Error, attempts: Int, retry: Int? = nil, elapsed: Duration, unit: Double) -> Decision {
        if error is CancellationError { return .giveUp("cancelled") }
        guard let classified = error as? any RetryClassifiable else { return .giveUp("not retryable") }
        guard classified.isRetryable else { return .giveUp("not retryable (\(classified.failureCode))") }
        guard attempts < maxAttempts else { return .giveUp("\(attempts) of \(maxAttempts) attempts made") }
        var delay = backoff(retry: retry ?? attempts, unit: unit)
        if let retryAfter = classified.retryAfter, retryAfter > delay { delay = retryAfter }
        if let deadline, elapsed + delay >= deadline {
            return .giveUp("a retry after \(delay) would pass the deadline of \(deadline)")
        }
        return .retry(after: delay)
    }
}
