//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessConfig
import HarnessCore
import Testing

@Suite struct PricingConfigTests {
    @Test func overridesReplaceAndAddPrices() throws {
        let yaml = """
            pricing:
              gpt-4o: {input: 2, output: 8, cache_read: 1}
              my-finetune:
                input: 3
                output: 12
                cache_write: 3.75
                reasoning: 20
            """
        let config = try ConfigLoader.load(yaml: yaml)
        let table = config.pricingTable
        #expect(table.price(for: "gpt-4o-2024-08-06") == ModelPrice(input: 2, output: 8, cacheRead: 1))
        #expect(table.price(for: "my-finetune") == ModelPrice(input: 3, output: 12, cacheWrite: 3.75, reasoning: 20))
        #expect(table.price(for: "gpt-4o-mini") == PricingTable.defaults.price(for: "gpt-4o-mini"))
        // 1,000 input (none cached), 500 output of which 200 reasoning: 3,000 + 300×12 + 200×20 = 10,600 µ$.
        let cost = try #require(table.cost(of: Usage(inputTokens: 1000, outputTokens: 500, reasoningTokens: 200), model: "my-finetune"))
        #expect(abs(cost - 0.0106) < 1e-12)
    }

    @Test func badPricesAreReportedWithKeyAndLine() throws {
        let yaml = """
            pricing:
              gpt-4o: {input: -1, output: 8}
              other:
                input: 1
                ouput: 2
              third: 5
            """
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml, source: "harness.yaml") }
        let keys = error.diagnostics.map { $0.key ?? "" }
        #expect(keys.contains("pricing.gpt-4o.input"))
        #expect(keys.contains("pricing.other.ouput"))
        #expect(error.diagnostics.first { $0.key == "pricing.other.ouput" }?.message.contains("did you mean 'output'") == true)
        #expect(error.diagnostics.first { $0.key == "pricing.other.ouput" }?.line == 5)
        #expect(keys.contains("pricing.third"))
    }
}
