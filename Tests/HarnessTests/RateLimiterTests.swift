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
import Testing

/// Timing here is only ever checked from below: `Task.sleep` never wakes early, so a limiter
/// that admits N tokens beyond its burst cannot finish before N / rate seconds, however slow
/// the machine. Nothing asserts that anything is fast.
@Suite struct TokenBucketRateLimiterTests {
    /// A rate so slow that no token comes back during a test.
    static let glacial = 0.001

    /// Waits (up to a generous limit) until `key`'s bucket drops below `threshold`, which is
    /// how a test sees that a waiter holds its reservation.
    static func waitUntilTokens(
        of limiter: TokenBucketRateLimiter, key: String, below threshold: Double
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while limiter.availableTokens(key: key) >= threshold {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(1))
        }
        return true
    }

    @Test func burstOfCapacityIsAdmittedThenTheNextIsRefused() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 5, refillPerSecond: Self.glacial, mode: .refuse))
        #expect(limiter.availableTokens(key: "k") == 5)
        for _ in 0..<5 { try await limiter.acquire(key: "k", cost: 1) }
        #expect(limiter.availableTokens(key: "k") < 0.5)

        let error = await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "k", cost: 1) }
        #expect(error?.code == .rateLimited)
        let retryAfter = try #require(error?.retryAfter)
        #expect(retryAfter > .zero)
        // One token at 0.001 per second is most of 1000 seconds away.
        #expect(retryAfter > .seconds(900))
        // A refusal takes nothing.
        #expect(limiter.availableTokens(key: "k") >= 0)
    }

    @Test func costsAreCounted() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 10, refillPerSecond: Self.glacial, mode: .refuse))
        try await limiter.acquire(key: "k", cost: 4)
        try await limiter.acquire(key: "k", cost: 4)
        let error = await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "k", cost: 4) }
        #expect(error?.code == .rateLimited)
        try await limiter.acquire(key: "k", cost: 2)
        #expect(limiter.availableTokens(key: "k") < 0.5)
    }

    @Test func waitModeWaitsForTheRefill() async throws {
        let rate = 20.0  // one token per 50 ms
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: rate))
        let start = ContinuousClock.now
        try await limiter.acquire(key: "k")  // the burst
        try await limiter.acquire(key: "k")  // must wait for one refill
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(45), "the second token cannot exist before 50 ms; took \(elapsed)")
    }

    @Test func concurrentWaitersAreNotAdmittedFasterThanTheRate() async throws {
        let rate = 20.0  // one token per 50 ms
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: rate))
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 {
                group.addTask { try await limiter.acquire(key: "k") }
            }
            try await group.waitForAll()
        }
        // Five admissions from a burst of one need four refills: at least 200 ms.
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(190), "five tokens were admitted in \(elapsed)")
        // Everything reserved was used: the bucket is not left owing or overfull.
        let left = limiter.availableTokens(key: "k")
        #expect(left > -0.01 && left <= 1)
    }

    @Test func aWaiterHoldsAReservationThenUsesIt() async throws {
        // 20 s per token: the reservation (a balance near -1, refilling at 0.05/s) stays below
        // -0.05 for 19 s, long enough to be seen even when CPU-bound tests running in parallel
        // keep the cooperative pool busy for seconds (a 4.75 s window was missed in CI).
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: 0.05))
        try await limiter.acquire(key: "k")
        let waiter = Task { try await limiter.acquire(key: "k") }
        // While it waits, its reservation shows as a negative balance.
        let reserved = try await Self.waitUntilTokens(of: limiter, key: "k", below: -0.05)
        #expect(reserved, "the waiter never reserved its token")
        try await waiter.value
        // Once admitted, the debt is paid off by the refill.
        #expect(limiter.availableTokens(key: "k") > -0.01)
    }

    @Test func cancellingAWaiterThrowsCancelledAndRefundsTheReservation() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: 0.01))  // 100 s per token
        try await limiter.acquire(key: "k")
        let before = limiter.availableTokens(key: "k")
        let beforeTime = ContinuousClock.now
        let waiter = Task { try await limiter.acquire(key: "k") }

        let reserved = try await Self.waitUntilTokens(of: limiter, key: "k", below: -0.5)
        #expect(reserved, "the waiter never reserved its token")
        waiter.cancel()
        let outcome = await waiter.result
        guard case .failure(let error) = outcome else {
            Issue.record("a cancelled waiter was admitted")
            return
        }
        #expect((error as? HarnessError)?.code == .cancelled, "got \(error)")
        // The reservation came back: the balance is where it was before the waiter came.
        let after = limiter.availableTokens(key: "k")
        // …plus what the refill added meanwhile (0.01 per second: more than 0.1 only if the
        // machine stalled this test for 10 s, as a loaded CI machine once did).
        let elapsed = ContinuousClock.now - beforeTime
        let refill = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 0.01
        #expect(abs(after - before - refill) < 0.02, "before \(before), after \(after), refill \(refill)")
    }

    @Test func aCancelledWaiterDoesNotDelayTheNextOne() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: 0.01, mode: .wait(maxWait: .seconds(150))))
        try await limiter.acquire(key: "k")
        let first = Task { try await limiter.acquire(key: "k") }
        #expect(try await Self.waitUntilTokens(of: limiter, key: "k", below: -0.5))
        first.cancel()
        _ = await first.result
        // Had the reservation leaked, the next waiter would need ~200 s and be refused
        // (more than maxWait); with it refunded it needs ~100 s and is admitted to wait.
        let second = Task { try await limiter.acquire(key: "k") }
        #expect(try await Self.waitUntilTokens(of: limiter, key: "k", below: -0.5))
        second.cancel()
        let outcome = await second.result
        guard case .failure(let error) = outcome else {
            Issue.record("the second waiter was admitted without its token")
            return
        }
        #expect((error as? HarnessError)?.code == .cancelled, "got \(error)")
    }

    @Test func maxWaitShorterThanNeededRefusesAtOnce() async throws {
        let limiter = TokenBucketRateLimiter(
            .init(capacity: 1, refillPerSecond: 0.1, mode: .wait(maxWait: .milliseconds(100)))  // 10 s per token
        )
        try await limiter.acquire(key: "k")
        let start = ContinuousClock.now
        let error = await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "k") }
        let elapsed = ContinuousClock.now - start
        #expect(error?.code == .rateLimited)
        let retryAfter = try #require(error?.retryAfter)
        #expect(retryAfter > .seconds(5))
        // Refused without waiting for the token (which is seconds away), and nothing reserved.
        #expect(elapsed < retryAfter)
        #expect(limiter.availableTokens(key: "k") > -0.5)
    }

    @Test func deadlineBeforeTheWaitEndsRefuses() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: 0.1))  // 10 s per token
        try await limiter.acquire(key: "k")
        let deadline = ContinuousClock.now + .seconds(1)
        let error = await #expect(throws: HarnessError.self) {
            try await limiter.acquire(key: "k", cost: 1, deadline: deadline)
        }
        #expect(error?.code == .rateLimited)
        #expect((error?.retryAfter ?? .zero) > .seconds(1))
        #expect(ContinuousClock.now < deadline + .seconds(8), "refused at once, not after waiting")
        #expect(limiter.availableTokens(key: "k") > -0.5)
    }

    @Test func deadlineAfterTheWaitEndsIsAdmitted() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: 20))  // 50 ms per token
        try await limiter.acquire(key: "k")
        try await limiter.acquire(key: "k", cost: 1, deadline: ContinuousClock.now + .seconds(30))
    }

    @Test func costAboveCapacityIsAnInvalidArgument() async throws {
        for mode in [TokenBucketRateLimiter.Mode.refuse, .wait(maxWait: nil)] {
            let limiter = TokenBucketRateLimiter(.init(capacity: 2, refillPerSecond: 1, mode: mode))
            let error = await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "k", cost: 3) }
            #expect(error?.code == .invalidArgument)
            // Nothing was taken.
            #expect(limiter.availableTokens(key: "k") == 2)
        }
    }

    @Test func keysHaveSeparateBuckets() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 1, refillPerSecond: Self.glacial, mode: .refuse))
        try await limiter.acquire(key: "tenant-a")
        try await limiter.acquire(key: "tenant-b")
        await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "tenant-a") }
        await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "tenant-b") }
        try await limiter.acquire(key: "tenant-c")
        #expect(limiter.availableTokens(key: "tenant-d") == 1)
    }

    @Test func tryAcquireTakesOnlyWhatIsThere() {
        let limiter = TokenBucketRateLimiter(.init(capacity: 2, refillPerSecond: Self.glacial))
        #expect(limiter.tryAcquire(key: "k"))
        #expect(limiter.tryAcquire(key: "k"))
        #expect(!limiter.tryAcquire(key: "k"))
        // A failed try reserves nothing, even in wait mode.
        #expect(limiter.availableTokens(key: "k") >= 0)
        #expect(!limiter.tryAcquire(key: "k", cost: 0.5))
        #expect(limiter.tryAcquire(key: "other", cost: 2))
        #expect(!limiter.tryAcquire(key: "other", cost: 0.5))
        #expect(!limiter.tryAcquire(key: "third", cost: 3))
    }

    @Test func tokensRefillButNeverBeyondCapacity() async throws {
        let limiter = TokenBucketRateLimiter(.init(capacity: 2, refillPerSecond: 50))
        #expect(limiter.tryAcquire(key: "k", cost: 2))
        try await Task.sleep(for: .milliseconds(100))  // at least 5 tokens' worth of refill
        #expect(limiter.availableTokens(key: "k") == 2)
        #expect(limiter.tryAcquire(key: "k", cost: 2))
    }
}

@Suite struct RateLimiterInputTests {
    @Test func negativeOrNonFiniteCostIsRefused() async {
        let limiter = TokenBucketRateLimiter(.init(capacity: 2, refillPerSecond: 0))
        for cost in [-1.0, .nan, .infinity] {
            await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "k", cost: cost) }
            #expect(limiter.tryAcquire(key: "k", cost: cost) == false)
        }
        // The bucket was not topped up by the refused negative cost.
        #expect(limiter.availableTokens(key: "k") == 2)
    }
}
