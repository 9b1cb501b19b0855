//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Harness
public import HarnessCore

/// Builds the object graph a configuration describes.
public struct HarnessFactory: Sendable {
    public var configuration: HarnessConfiguration

    public init(configuration: HarnessConfiguration) {
        self.configuration = configuration
    }

    /// The orchestrator: response cache and rate limiter as configured, plus the given store.
    public func makeOrchestrator(conversationStore: (any ConversationStore)? = nil) -> Orchestrator {
        var services = Orchestrator.Configuration()
        let c = configuration
        if c.cache.enabled {
            services.responseCache = ResponseCache(storage: InMemoryCache(capacity: c.cache.capacity, defaultTTL: c.cache.ttl), ttl: c.cache.ttl)
        }
        if c.rateLimit.enabled {
            services.rateLimiter = TokenBucketRateLimiter(
                .init(
                    capacity: c.rateLimit.capacity, refillPerSecond: c.rateLimit.refillPerSecond,
                    mode: c.rateLimit.refuse ? .refuse : .wait(maxWait: c.rateLimit.maxWait)
                )
            )
        }
        services.conversationStore = conversationStore
        return Orchestrator(configuration: services)
    }

    /// The run policy.
    public func makePolicy() -> RunPolicy { configuration.policy }

    /// The guardrails.
    /// - Throws: `HarnessError` `invalidConfiguration` for a pattern that does not compile
    ///   (``ConfigLoader`` already reports those with their key).
    public func makeGuardrails() throws -> Guardrails {
        let g = configuration.guardrails
        return try Guardrails(
            allowedTools: g.allowedTools.map(Set.init), blockedWords: g.blockedWords,
            blockedPatterns: g.blockedPatterns, maxOutputBytes: configuration.maxOutputSize
        )
    }

    /// An agent with this configuration's policy and guardrails.
    public func makeAgent(
        name: String,
        instructions: String?,
        model: any LanguageModel,
        modelID: String,
        tools: [any Tool]
    ) throws -> Agent {
        Agent(
            name: name, instructions: instructions, model: model, modelID: modelID, tools: tools,
            policy: makePolicy(), guardrails: try makeGuardrails()
        )
    }
}
