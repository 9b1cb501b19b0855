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

/// A token-bucket RateLimiter with one bucket per key.
///
/// Each bucket holds up to `capacity` tokens and refills at `refillPerSecond`. Work costing
/// more tokens than the bucket has either waits (in arrival order: tokens are reserved, so
/// later callers queue behind earlier ones) or is refused, as configured. A waiter honours
/// task cancellation, and its reservation is returned when it is cancelled.
///
/// ```swift
/// let limiter = TokenBucketRateLimiter(.init(capacity: 10, refillPerSecond: 2))
/// try await limiter.acquire(key: "tenant-a", cost: 1)
/// ```
public final class TokenBucketRateLimiter: RateLimiter {
    /// What to do when a bucket has too few tokens.
    public enum Mode: Sendable, Hashable {
        /// Wait for the tokens, but refuse at once if the wait would exceed `maxWait`.
        case wait(maxWait: Duration?)
        /// Refuse at once, saying how long until the tokens would be there.
        case refuse
    }

    /// The limiter's settings.
    public struct Configuration: Sendable, Hashable {
        /// The most tokens a bucket holds (the burst).
        public var capacity: Double
        /// Tokens added per second.
        public var refillPerSecond: Double
        /// Wait or refuse.
        public var mode: Mode

        public init(capacity: Double, refillPerSecond: Double, mode: Mode = .wait(maxWait: nil)) {
            self.capacity = capacity
            self.refillPerSecond = refillPerSecond
            self.mode = mode
        }
    }

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// The settings.
    public let configuration: Configuration
    /// Counts `harness_rate_limit_hits_total`: every admission that had to wait or was refused.
    public let metrics: HarnessMetrics
    private let buckets: Mutex<[String: Bucket]>
    /// Buckets kept before full (idle) ones are pruned.
    private let pruneThreshold = 10_000

    /// A limiter with `configuration`, reporting to `metrics` (by default the process-wide factory).
    public init(_ configuration: Configuration, metrics: HarnessMetrics = HarnessMetrics()) {
        self.configuration = configuration
        self.metrics = metrics
        self.buckets = Mutex([:])
    }

    private enum Decision {
        case admitted
        case wait(Duration)
        case refused(Duration)
    }

    /// Admits work costing `cost` tokens under `key`.
    ///
    /// - Throws: `HarnessError` `rateLimited` (with `retryAfter`) when refused,
    ///   `invalidArgument` when `cost` exceeds the capacity (it could never be admitted),
    ///   `cancelled` when the task is cancelled while waiting.
    public func acquire(key: String, cost: Double = 1) async throws {
        try await acquire(key: key, cost: cost, deadline: nil)
    }

    /// Admits work, waiting no later than `deadline` (a wait that would end after it is
    /// refused at once).
    public func acquire(key: String, cost: Double = 1, deadline: ContinuousClock.Instant?) async throws {
        guard cost >= 0, cost.isFinite else {
            throw HarnessError(.invalidArgument, "rate limit cost must be a non-negative number, not \(cost)")
        }
        guard cost <= configuration.capacity else {
            throw HarnessError(
                .invalidArgument,
                "rate limit cost \(cost) exceeds the bucket capacity \(configuration.capacity)"
            )
        }
        let now = ContinuousClock.now
        let decision = reserve(key: key, cost: cost, now: now, deadline: deadline)
        switch decision {
        case .admitted:
            return
        case .refused(let after):
            metrics.recordRateLimitHit()
            throw HarnessError(.rateLimited, "rate limit reached for key", retryAfter: after)
        case .wait(let duration):
            metrics.recordRateLimitHit()
            do {
                try await Task.sleep(until: now + duration, clock: .continuous)
            } catch {
                refund(key: key, cost: cost)
                throw HarnessError(.cancelled, "cancelled while waiting for the rate limiter")
            }
        }
    }

    /// Takes `cost` tokens if they are there now; never waits.
    public func tryAcquire(key: String, cost: Double = 1) -> Bool {
        guard cost >= 0, cost.isFinite, cost <= configuration.capacity else { return false }
        let now = ContinuousClock.now
        let admitted = buckets.withLock { map in
            var bucket = refilled(map[key], now: now)
            guard bucket.tokens >= cost else {
                map[key] = bucket
                return false
            }
            bucket.tokens -= cost
            map[key] = bucket
            return true
        }
        if !admitted { metrics.recordRateLimitHit() }
        return admitted
    }

    /// The tokens in `key`'s bucket now (negative while waiters hold reservations).
    public func availableTokens(key: String) -> Double {
        let now = ContinuousClock.now
        return buckets.withLock { refilled($0[key], now: now).tokens }
    }

    private func refilled(_ bucket: Bucket?, now: ContinuousClock.Instant) -> Bucket {
        guard var bucket else { return Bucket(tokens: configuration.capacity, updated: now) }
        let elapsed = (now - bucket.updated).seconds
        if elapsed > 0 {
            bucket.tokens = min(configuration.capacity, bucket.tokens + elapsed * configuration.refillPerSecond)
            bucket.updated = now
        }
        return bucket
    }

    private func reserve(key: String, cost: Double, now: ContinuousClock.Instant, deadline: ContinuousClock.Instant?)
        -> Decision
    {
        buckets.withLock { map in
            if map.count > pruneThreshold { prune(&map, now: now) }
            var bucket = refilled(map[key], now: now)
            defer { map[key] = bucket }
            if bucket.tokens >= cost {
                bucket.tokens -= cost
                return .admitted
            }
            let deficit = cost - bucket.tokens
            let wait = configuration.refillPerSecond > 0
                ? Duration.seconds(deficit / configuration.refillPerSecond) : Duration.seconds(86_400 * 365)
            switch configuration.mode {
            case .refuse:
                return .refused(wait)
            case .wait(let maxWait):
                if let maxWait, wait > maxWait { return .refused(wait) }
                if let deadline, now + wait > deadline { return .refused(wait) }
                bucket.tokens -= cost  // reserve: later callers queue behind this one
                return .wait(wait)
            }
        }
    }

    private func refund(key: String, cost: Double) {
        let now = ContinuousClock.now
        buckets.withLock { map in
            var bucket = refilled(map[key], now: now)
            bucket.tokens = min(configuration.capacity, bucket.tokens + cost)
            map[key] = bucket
        }
    }

    private func prune(_ map: inout [String: Bucket], now: ContinuousClock.Instant) {
        // A full bucket is indistinguishable from a new one: drop those.
        map = map.filter { refilled($0.value, now: now).tokens < configuration.capacity }
    }
}
