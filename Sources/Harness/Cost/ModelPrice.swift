//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// What a model's tokens cost, in US dollars per million tokens of each kind.
///
/// Reasoning tokens are output tokens and are billed as such unless ``reasoning`` is set.
public struct ModelPrice: Sendable, Hashable, Codable {
    /// Uncached prompt tokens.
    public var input: Double
    /// Output tokens (answer and reasoning).
    public var output: Double
    /// Prompt tokens read from the provider's cache.
    public var cacheRead: Double
    /// Prompt tokens written to the provider's cache.
    public var cacheWrite: Double
    /// Reasoning tokens, if priced apart from output.
    public var reasoning: Double?

    public init(input: Double, output: Double, cacheRead: Double? = nil, cacheWrite: Double? = nil, reasoning: Double? = nil) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead ?? input
        self.cacheWrite = cacheWrite ?? input
        self.reasoning = reasoning
    }

    /// The cost in USD of `usage`.
    ///
    /// `usage.inputTokens` counts cache reads and writes too (see ``Usage``); they are taken
    /// out and billed at their own prices, so none is billed twice or dropped.
    public func cost(of usage: Usage) -> Double {
        let uncached = max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens)
        var dollars = Double(uncached) * input
        dollars += Double(usage.cacheReadTokens) * cacheRead
        dollars += Double(usage.cacheWriteTokens) * cacheWrite
        if let reasoning {
            dollars += Double(max(0, usage.outputTokens - usage.reasoningTokens)) * output
            dollars += Double(usage.reasoningTokens) * reasoning
        } else {
            dollars += Double(usage.outputTokens) * output
        }
        return dollars / 1_000_000
    }

    /// Free (local models).
    public static let free = ModelPrice(input: 0, output: 0)
}
