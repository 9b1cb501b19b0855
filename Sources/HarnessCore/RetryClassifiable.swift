//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An error that says whether the same call may succeed if made again.
///
/// Retry, circuit breaking and routing in `Harness` recognise failures through this
/// protocol only, so that the core never imports a provider module: `ProviderError`
/// (HarnessProviders) and ``HarnessError`` adopt it. An error that does not adopt it is
/// treated as not retryable and as saying nothing about the upstream's health.
///
/// ## Implementation requirements
/// - `isRetryable` is `true` only when sending the same request again later may succeed
///   (rate limits, overload, server errors, timeouts, broken connections), never for a
///   request the upstream refused as invalid.
/// - `retryAfter` is the upstream's own instruction (a `Retry-After` header or its
///   equivalent); retry logic never calls again sooner.
public protocol RetryClassifiable: Error {
    /// Whether the same request may succeed if sent again later.
    var isRetryable: Bool { get }
    /// How long the upstream asked callers to wait, if it said.
    var retryAfter: Duration? { get }
    /// Whether the failure says the upstream is unhealthy (counts against its circuit
    /// breaker). Defaults to ``isRetryable``: an invalid request or a prompt over the
    /// context window says nothing about the upstream.
    var indicatesUnhealthyUpstream: Bool { get }
    /// A short, bounded code for reports and metrics (`rate_limited`, `timeout`, …).
    var failureCode: String { get }
}

extension RetryClassifiable {
    public var indicatesUnhealthyUpstream: Bool { isRetryable }
    public var failureCode: String { String(describing: Self.self) }
}
