//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Limits how fast work is admitted, per key.
///
/// ## Implementation requirements
/// - `acquire` either admits the work (returning, perhaps after waiting) or throws a
///   HarnessError with code `rateLimited`; while waiting it honours task cancellation.
public protocol RateLimiter: Sendable {
    /// Admits work costing `cost` units under `key`, waiting or refusing as configured.
    func acquire(key: String, cost: Double) async throws
}
