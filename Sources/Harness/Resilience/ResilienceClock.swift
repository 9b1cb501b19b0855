//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The time source of retry, circuit breaking, routing and health checks: a monotonic
/// reading and a sleep. Tests inject a virtual clock whose sleep advances its reading, so
/// that backoff and open timeouts are checked without waiting.
///
/// A closure pair rather than a generic `Clock`: the router, its breakers and the health
/// checker share one, and keeping it out of their type parameters keeps them storable as
/// plain values.
public struct ResilienceClock: Sendable {
    /// Time since an arbitrary fixed origin; never goes backwards.
    public var now: @Sendable () -> Duration
    /// Suspends for the duration; throws `CancellationError` when the task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(now: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The system's continuous clock.
    public static let continuous: ResilienceClock = {
        let clock = ContinuousClock()
        let origin = clock.now
        return ResilienceClock(
            now: { clock.now - origin },
            sleep: { duration in if duration > .zero { try await Task.sleep(for: duration) } }
        )
    }()
}

extension Duration {
    /// A duration of `seconds` (negative and non-finite values give zero).
    static func seconds(_ seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .nanoseconds(Int64(min(seconds, 9e9) * 1e9))
    }
}
