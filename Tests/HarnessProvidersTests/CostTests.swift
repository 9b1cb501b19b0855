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
import HarnessProviders
import Testing

/// Each provider's usage block, read by its adapter, priced by the default table, against
/// figures computed by hand (in the comments, µ$ = millionths of a dollar).
@Suite struct CostTests {
    let table = PricingTable.defaults

    func dollars(_ usage: Usage, _ model: String) throws -> Double {
        try #require(table.cost(of: usage, model: model), "no price for \(model)")
    }

    @Test func openAIChatCompletions() throws {
        // prompt 2,006 = 22 uncached + 1,920 cached + 64 written; completion 300 (256 reasoning).
        let usage = OpenAIChatWire.usage([
            "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": ["cached_tokens": 1920, "cache_write_tokens": 64],
            "completion_tokens_details": ["reasoning_tokens": 256],
        ])
        #expect(usage == Usage(inputTokens: 2006, outputTokens: 300, cacheReadTokens: 1920, cacheWriteTokens: 64, reasoningTokens: 256))
        // gpt-4o: 22×2.50 + 1,920×1.25 + 64×2.50 + 300×10 = 55 + 2,400 + 160 + 3,000 = 5,615 µ$.
        #expect(abs(try dollars(usage, "gpt-4o-2024-08-06") - 0.005615) < 1e-12)
        // gpt-4o-mini: 22×0.15 + 1,920×0.075 + 64×0.15 + 300×0.60 = 3.3 + 144 + 9.6 + 180 = 336.9 µ$.
        #expect(abs(try dollars(usage, "gpt-4o-mini-2024-07-18") - 0.0003369) < 1e-12)
    }

    @Test func openAIResponses() throws {
        let usage = OpenAIResponsesWire.usage([
            "input_tokens": 2200, "input_tokens_details": ["cached_tokens": 1920, "cache_write_tokens": 128],
            "output_tokens": 410, "output_tokens_details": ["reasoning_tokens": 384], "total_tokens": 2610,
        ])
        // o4-mini: 152×1.10 + 1,920×0.275 + 128×1.10 + 410×4.40 = 167.2 + 528 + 140.8 + 1,804 = 2,640 µ$.
        #expect(abs(try dollars(usage, "o4-mini-2025-04-16") - 0.00264) < 1e-12)
    }

    @Test func anthropicMessages() throws {
        // Anthropic's input_tokens EXCLUDE cache reads and writes; the adapter adds them.
        let usage = AnthropicWire.usage([
            "input_tokens": 50, "cache_creation_input_tokens": 1200, "cache_read_input_tokens": 3000, "output_tokens": 400,
        ])
        #expect(usage == Usage(inputTokens: 4250, outputTokens: 400, cacheReadTokens: 3000, cacheWriteTokens: 1200))
        // claude-sonnet-4-5: 50×3 + 3,000×0.30 + 1,200×3.75 + 400×15 = 150 + 900 + 4,500 + 6,000 = 11,550 µ$.
        #expect(abs(try dollars(usage, "claude-sonnet-4-5-20250929") - 0.01155) < 1e-12)
        // Dropping the cache write (the usual billing bug) would give 7,050 µ$ instead.
    }

    @Test func gemini() throws {
        // promptTokenCount includes the cached tokens; thoughts are NOT in candidatesTokenCount.
        let usage = GeminiWire.usage([
            "promptTokenCount": 10000, "cachedContentTokenCount": 8000, "candidatesTokenCount": 500,
            "thoughtsTokenCount": 1500, "totalTokenCount": 12000,
        ])
        #expect(usage == Usage(inputTokens: 10000, outputTokens: 2000, cacheReadTokens: 8000, reasoningTokens: 1500))
        // gemini-2.5-flash: 2,000×0.30 + 8,000×0.03 + 2,000×2.50 = 600 + 240 + 5,000 = 5,840 µ$.
        #expect(abs(try dollars(usage, "gemini-2.5-flash") - 0.00584) < 1e-12)
        // Dropping the thinking tokens (the usual bug) would bill 1,250 µ$ less output.
    }

    @Test func bedrockConverse() throws {
        // Bedrock's inputTokens EXCLUDE cache reads and writes.
        let usage = BedrockWire.usage([
            "inputTokens": 100, "outputTokens": 250, "totalTokens": 4350,
            "cacheReadInputTokens": 3000, "cacheWriteInputTokens": 1000,
        ])
        #expect(usage == Usage(inputTokens: 4100, outputTokens: 250, cacheReadTokens: 3000, cacheWriteTokens: 1000))
        // Claude 3.5 Haiku on Bedrock: 100×0.80 + 3,000×0.08 + 1,000×1.00 + 250×4 = 80 + 240 + 1,000 + 1,000 = 2,320 µ$.
        #expect(abs(try dollars(usage, "us.anthropic.claude-3-5-haiku-20241022-v1:0") - 0.00232) < 1e-12)
        // Amazon Nova Pro (no cache-write price: billed as input): 100×0.80 + 3,000×0.20 + 1,000×0.80 + 250×3.20 = 2,280 µ$.
        #expect(abs(try dollars(usage, "amazon.nova-pro-v1:0") - 0.00228) < 1e-12)
    }

    @Test func lookupRules() {
        #expect(table.price(for: "gpt-4o-mini-2024-07-18") == table.prices["gpt-4o-mini"])
        #expect(table.price(for: "gpt-4o-2024-08-06") == table.prices["gpt-4o"])
        #expect(table.price(for: "claude-sonnet-4-5-20250929") == table.prices["claude-sonnet-4-5"])
        #expect(table.price(for: "claude-sonnet-4-20250514") == table.prices["claude-sonnet-4"])
        #expect(table.price(for: "us.anthropic.claude-3-5-haiku-20241022-v1:0") == table.prices["claude-3-5-haiku"])
        #expect(table.price(for: "amazon.nova-pro-v1:0") == table.prices["nova-pro-v1"])
        #expect(table.price(for: "models/gemini-2.5-flash-lite") == table.prices["gemini-2.5-flash-lite"])
        #expect(table.price(for: "o3-mini") == table.prices["o3-mini"])
        #expect(table.price(for: "gpt-4") == nil)  // a prefix of a known name is not that model
        #expect(table.price(for: "gpt-4oops") == nil)  // no boundary after the known name
        #expect(table.cost(of: Usage(inputTokens: 10), model: "llama3.2") == nil)  // unknown: no guess
    }
}
