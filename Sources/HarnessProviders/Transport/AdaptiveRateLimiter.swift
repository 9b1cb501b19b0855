//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Foundation
public import HarnessCore
import Synchronization

/// A client-side limiter that also slows down when the provider says a limit is exhausted.
///
/// Each response's ``RateLimitState`` is handed to ``observe(_:key:)`` (wire it with
/// ``observer(key:)`` as a ``ProviderSettings/rateLimitObserver``). While the latest state for
/// a key says a window is empty (or the provider asked to retry after a while), `acquire`
/// for that key waits until the window resets — before sending the request that would have
/// got a 429 — and then asks the wrapped limiter, if any.
///
/// ```swift
/// let limiter = AdaptiveRateLimiter(wrapping: TokenBucketRateLimiter(...))
/// var settings = ProviderSettings(baseURL: "...", providerName: "openai")
/// settings.rateLimitObserver = limiter.observer(key: "openai")
/// ```
public final class AdaptiveRateLimiter: RateLimiter {
    private let base: (any RateLimiter)?
    private let states = Mutex<[String: RateLimitState]>([:])
    /// The longest it waits on the provider's word; a longer wait throws `rateLimited`.
    public let maxWait: Duration

    public init(wrapping base: (any RateLimiter)? = nil, maxWait: Duration = .seconds(60)) {
        self.base = base
        self.maxWait = maxWait
    }

    /// Records what a response said about `key`'s limits.
    public func observe(_ state: RateLimitState, key: String) {
        states.withLock { $0[key] = state }
    }

    /// An observer for ``ProviderSettings/rateLimitObserver`` that records under `key`.
    public func observer(key: String) -> @Sendable (RateLimitState) -> Void {
        { [weak self] state in self?.observe(state, key: key) }
    }

    /// How long `acquire(key:)` would hold a request now.
    public func delay(for key: String, now: Date = Date()) -> Duration? {
        states.withLock { $0[key] }?.suggestedDelay(now: now)
    }

    public func acquire(key: String, cost: Double) async throws {
        if let wait = delay(for: key) {
            guard wait <= maxWait else {
                throw HarnessError(.rateLimited, "the provider's rate limit for '\(key)' resets in \(wait), longer than \(maxWait)", retryAfter: wait)
            }
            do {
                try await Task.sleep(for: wait)
            } catch {
                throw HarnessError(.cancelled, "cancelled while waiting for the rate limit of '\(key)' to reset")
            }
        }
        try await base?.acquire(key: key, cost: cost)
    }
}
