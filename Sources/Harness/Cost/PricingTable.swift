//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Prices by model name, and the cost of a call's usage.
///
/// A model is found by its exact name, else by the longest known name it starts with
/// (`gpt-4o-2024-08-06` → `gpt-4o`, while `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`). Bedrock
/// ids are matched without their region and vendor prefixes (`us.anthropic.claude-…` →
/// `claude-…`). An unknown model has no price: ``cost(of:model:)`` returns nil rather than
/// guessing.
public struct PricingTable: Sendable, Hashable {
    /// Prices by model name (lower-case).
    public private(set) var prices: [String: ModelPrice]
    /// Where the prices come from, and as of when.
    public var source: String

    public init(prices: [String: ModelPrice], source: String) {
        self.prices = Dictionary(prices.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.source = source
    }

    /// This table with `overrides` replacing or adding prices (from configuration).
    public func merging(_ overrides: [String: ModelPrice]) -> PricingTable {
        var table = self
        for (model, price) in overrides { table.prices[model.lowercased()] = price }
        return table
    }

    /// The price of `model`, if known.
    public func price(for model: String) -> ModelPrice? {
        let name = Self.normalized(model)
        if let exact = prices[name] { return exact }
        var best: (key: String, price: ModelPrice)?
        for (key, price) in prices where name.hasPrefix(key) {
            let boundary = name.index(name.startIndex, offsetBy: key.count)
            guard boundary == name.endIndex || "-:@.".contains(name[boundary]) else { continue }
            if key.count > (best?.key.count ?? -1) { best = (key, price) }
        }
        return best?.price
    }

    /// The cost in USD of `usage` on `model`, or nil if the model has no known price.
    public func cost(of usage: Usage, model: String) -> Double? {
        price(for: model)?.cost(of: usage)
    }

    static func normalized(_ model: String) -> String {
        var name = Substring(model.lowercased())
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }  // openai/gpt-4o, models/gemini-…
        for region in ["us.", "eu.", "apac.", "global.", "us-gov."] where name.hasPrefix(region) {
            name = name.dropFirst(region.count)
        }
        for vendor in ["anthropic.", "amazon.", "meta.", "mistral.", "cohere.", "ai21."] where name.hasPrefix(vendor) {
            name = name.dropFirst(vendor.count)
        }
        return String(name)
    }
}
