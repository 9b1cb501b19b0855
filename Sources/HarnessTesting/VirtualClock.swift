//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Harness
import Synchronization

/// A virtual time source for resilience tests: `sleep` records the duration and advances
/// the clock by it at once, so backoff, `Retry-After` and open timeouts are checked exactly
/// and without waiting.
public final class VirtualClock: Sendable {
    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))

    public init() {}

    /// The current virtual time.
    public var now: Duration { state.withLock { $0.now } }

    /// Every sleep asked for, in order.
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        state.withLock { $0.now += duration }
    }

    /// The clock as resilience components take it.
    public var clock: ResilienceClock {
        ResilienceClock(
            now: { [self] in now },
            sleep: { [self] duration in
                try Task.checkCancellation()
                state.withLock { s in
                    s.sleeps.append(duration)
                    s.now += max(duration, .zero)
                }
                await Task.yield()
            }
        )
    }
}
