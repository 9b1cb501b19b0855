//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

extension PricingTable {
    /// The prices shipped with Harness: public list prices (standard tier, per million
    /// tokens, USD) of each provider's pricing page — openai.com/api/pricing,
    /// anthropic.com/pricing (cache writes at the 5-minute rate), ai.google.dev/pricing (the
    /// ≤200k-token prompt tier), aws.amazon.com/bedrock/pricing (on-demand) — as the team
    /// last checked them, 2025-11. Prices change: override them in `harness.yaml`
    /// (`pricing:`) rather than trusting these for invoicing.
    public static let defaults = PricingTable(prices: defaultPrices, source: "provider list prices, checked 2025-11")

    static let defaultPrices: [String: ModelPrice] = [
        // OpenAI: cached input at the discounted rate; cache writes cost plain input.
        "gpt-5": ModelPrice(input: 1.25, output: 10, cacheRead: 0.125),
        "gpt-5-mini": ModelPrice(input: 0.25, output: 2, cacheRead: 0.025),
        "gpt-5-nano": ModelPrice(input: 0.05, output: 0.40, cacheRead: 0.005),
        "gpt-4.1": ModelPrice(input: 2, output: 8, cacheRead: 0.50),
        "gpt-4.1-mini": ModelPrice(input: 0.40, output: 1.60, cacheRead: 0.10),
        "gpt-4.1-nano": ModelPrice(input: 0.10, output: 0.40, cacheRead: 0.025),
        "gpt-4o": ModelPrice(input: 2.50, output: 10, cacheRead: 1.25),
        "gpt-4o-mini": ModelPrice(input: 0.15, output: 0.60, cacheRead: 0.075),
        "o3": ModelPrice(input: 2, output: 8, cacheRead: 0.50),
        "o3-mini": ModelPrice(input: 1.10, output: 4.40, cacheRead: 0.55),
        "o4-mini": ModelPrice(input: 1.10, output: 4.40, cacheRead: 0.275),
        "text-embedding-3-small": ModelPrice(input: 0.02, output: 0),
        "text-embedding-3-large": ModelPrice(input: 0.13, output: 0),
        // Anthropic: cache writes 1.25× input, cache reads 0.1× input.
        "claude-opus-4-5": ModelPrice(input: 5, output: 25, cacheRead: 0.50, cacheWrite: 6.25),
        "claude-opus-4-1": ModelPrice(input: 15, output: 75, cacheRead: 1.50, cacheWrite: 18.75),
        "claude-opus-4": ModelPrice(input: 15, output: 75, cacheRead: 1.50, cacheWrite: 18.75),
        "claude-sonnet-4-5": ModelPrice(input: 3, output: 15, cacheRead: 0.30, cacheWrite: 3.75),
        "claude-sonnet-4": ModelPrice(input: 3, output: 15, cacheRead: 0.30, cacheWrite: 3.75),
        "claude-3-7-sonnet": ModelPrice(input: 3, output: 15, cacheRead: 0.30, cacheWrite: 3.75),
        "claude-3-5-sonnet": ModelPrice(input: 3, output: 15, cacheRead: 0.30, cacheWrite: 3.75),
        "claude-haiku-4-5": ModelPrice(input: 1, output: 5, cacheRead: 0.10, cacheWrite: 1.25),
        "claude-3-5-haiku": ModelPrice(input: 0.80, output: 4, cacheRead: 0.08, cacheWrite: 1),
        "claude-3-haiku": ModelPrice(input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.30),
        // Google Gemini (prompts up to 200k tokens; thinking tokens billed as output).
        "gemini-2.5-pro": ModelPrice(input: 1.25, output: 10, cacheRead: 0.125),
        "gemini-2.5-flash": ModelPrice(input: 0.30, output: 2.50, cacheRead: 0.03),
        "gemini-2.5-flash-lite": ModelPrice(input: 0.10, output: 0.40, cacheRead: 0.01),
        "gemini-2.0-flash": ModelPrice(input: 0.10, output: 0.40, cacheRead: 0.025),
        "gemini-embedding-001": ModelPrice(input: 0.15, output: 0),
        // AWS Bedrock first-party models (Claude on Bedrock is matched by the names above).
        "nova-premier-v1": ModelPrice(input: 2.50, output: 12.50, cacheRead: 0.625),
        "nova-pro-v1": ModelPrice(input: 0.80, output: 3.20, cacheRead: 0.20),
        "nova-lite-v1": ModelPrice(input: 0.06, output: 0.24, cacheRead: 0.015),
        "nova-micro-v1": ModelPrice(input: 0.035, output: 0.14, cacheRead: 0.00875),
        "titan-embed-text-v2": ModelPrice(input: 0.02, output: 0),
        "llama3-3-70b-instruct-v1": ModelPrice(input: 0.72, output: 0.72),
    ]
}
