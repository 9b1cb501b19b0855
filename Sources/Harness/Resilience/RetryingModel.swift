//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// A model whose failed calls are retried as a ``RetryPolicy`` says, with an optional
/// circuit breaker, and whose broken streams are resumed from their partial output.
///
/// A ``Router`` with one route: see it for the behaviour of `complete` and `stream`.
///
/// ```swift
/// let model = RetryingModel(openai, policy: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(200)))
/// ```
public struct RetryingModel: LanguageModel {
    /// The router of one route that does the work.
    public let router: Router

    /// - Parameters:
    ///   - model: the model to call.
    ///   - policy: when to retry.
    ///   - circuitBreaker: breaker settings, or `nil` for none (the default).
    ///   - clock: the time source (a virtual one in tests).
    ///   - random: uniform numbers in `[0, 1)` for the jitter.
    public init(
        _ model: any LanguageModel,
        policy: RetryPolicy = RetryPolicy(),
        circuitBreaker: CircuitBreaker.Configuration? = nil,
        clock: ResilienceClock = .continuous,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        router = Router(
            name: model.providerName,
            routes: [Route(name: model.providerName, model: model)],
            configuration: Router.Configuration(strategy: .fallback, retry: policy, circuitBreaker: circuitBreaker),
            clock: clock,
            random: random
        )
    }

    public var providerName: String { router.routes[0].model.providerName }
    public var capabilities: ModelCapabilities { router.routes[0].capabilities }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        try await router.complete(request)
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        router.stream(request)
    }
}
