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

@Suite struct RetryPolicyTests {
    /// Retry n sleeps in [0, min(max, base × factor^(n-1))]: with the random source at its
    /// extremes the delays are exactly 0 and the caps.
    @Test func backoffFollowsTheCapsWithFullJitter() async throws {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(100), factor: 2, maxDelay: .milliseconds(500), deadline: nil)
        #expect((1...6).map { policy.backoffCap(retry: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500), .milliseconds(500),
        ])
        for unit in [0.0, 0.999_999_9] {
            let clock = VirtualClock()
            let model = FlakyModel { n in n < 5 ? .fail(.server) : .answer("ok") }
            let retrying = RetryingModel(model, policy: policy, clock: clock.clock, random: { unit })
            let response = try await retrying.complete(plainRequest)
            #expect(response.message.text == "ok")
            #expect(model.callCount == 6)
            let caps = (1...5).map { policy.backoffCap(retry: $0) }
            for (sleep, cap) in zip(clock.sleeps, caps) {
                #expect(sleep >= .zero && sleep <= cap)
                if unit == 0 { #expect(sleep == .zero) } else { #expect(cap - sleep < .microseconds(1)) }
            }
            #expect(clock.sleeps.count == 5)
            #expect(response.callReport?.retries == 5)
            #expect(response.callReport?.attempts.map(\.delayBefore) == [.zero] + clock.sleeps)
        }
    }

    /// Random jitter stays within [0, cap] over many draws and is not constant.
    @Test func jitterIsWithinBounds() {
        let policy = RetryPolicy(baseDelay: .milliseconds(100), factor: 3, maxDelay: .seconds(2))
        var generator = SplitMix64(seed: 7)
        var seen = Set<Duration>()
        for retry in 1...8 {
            for _ in 0..<200 {
                let d = policy.backoff(retry: retry, unit: Double.random(in: 0..<1, using: &generator))
                #expect(d >= .zero && d <= policy.backoffCap(retry: retry))
                seen.insert(d)
            }
        }
        #expect(seen.count > 1000)
    }

    /// A Retry-After longer than the backoff is waited in full, even past maxDelay.
    @Test func retryAfterIsHonoured() async throws {
        let clock = VirtualClock()
        let model = FlakyModel { n in n == 0 ? .fail(UpstreamFailure(retryAfter: .seconds(7), failureCode: "rate_limited")) : .answer("ok") }
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .seconds(1), deadline: .seconds(60))
        let response = try await RetryingModel(model, policy: policy, clock: clock.clock, random: { 0.5 }).complete(plainRequest)
        #expect(response.message.text == "ok")
        #expect(clock.sleeps == [.seconds(7)])
        #expect(response.callReport?.attempts.first?.errorCode == "rate_limited")
    }

    /// A Retry-After beyond the deadline gives up at once, without sleeping.
    @Test func retryAfterBeyondTheDeadlineGivesUp() async throws {
        let clock = VirtualClock()
        let model = FlakyModel { _ in .fail(UpstreamFailure(retryAfter: .seconds(90))) }
        let policy = RetryPolicy(maxAttempts: 5, deadline: .seconds(30))
        await #expect(throws: UpstreamFailure.self) {
            try await RetryingModel(model, policy: policy, clock: clock.clock).complete(plainRequest)
        }
        #expect(model.callCount == 1)
        #expect(clock.sleeps.isEmpty)
    }

    /// Errors that are not retryable are thrown after one call; unknown errors too.
    @Test func nonRetryableErrorsAreNotRetried() async throws {
        let clock = VirtualClock()
        let model = FlakyModel { _ in .fail(.invalid) }
        await #expect(throws: UpstreamFailure.self) {
            try await RetryingModel(model, policy: RetryPolicy(maxAttempts: 5), clock: clock.clock).complete(plainRequest)
        }
        #expect(model.callCount == 1)
        #expect(clock.sleeps.isEmpty)
        #expect(RetryPolicy().decide(after: CancellationError(), attempts: 1, elapsed: .zero, unit: 0) == .giveUp("cancelled"))
    }

    /// maxAttempts bounds the calls.
    @Test func attemptsAreBounded() async throws {
        let clock = VirtualClock()
        let model = FlakyModel { _ in .fail(.server) }
        await #expect(throws: UpstreamFailure.self) {
            try await RetryingModel(model, policy: RetryPolicy(maxAttempts: 4), clock: clock.clock).complete(plainRequest)
        }
        #expect(model.callCount == 4)
        #expect(clock.sleeps.count == 3)
    }
}
