//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// One way to serve a logical model: a language model with its name, weight, capabilities
/// and price. A ``Router`` chooses among its routes.
public struct Route: Sendable {
    /// A short name, unique in its router (`openai-primary`); used in reports, errors and
    /// metrics labels.
    public var name: String
    /// The model that serves it.
    public var model: any LanguageModel
    /// The model id to send, replacing the request's (each provider names the logical
    /// model its own way); `nil` keeps the request's.
    public var modelID: String?
    /// Its share under the weighted strategy (relative to the other routes).
    public var weight: Double
    /// What it supports; defaults to the model's own capabilities.
    public var capabilities: ModelCapabilities
    /// What its tokens cost, for the cost-optimized strategy; `nil` if unknown (ranked last).
    public var price: ModelPrice?

    public init(
        name: String,
        model: any LanguageModel,
        modelID: String? = nil,
        weight: Double = 1,
        capabilities: ModelCapabilities? = nil,
        price: ModelPrice? = nil
    ) {
        self.name = name
        self.model = model
        self.modelID = modelID
        self.weight = max(0, weight)
        self.capabilities = capabilities ?? model.capabilities
        self.price = price
    }

    /// Looks the price up by the model id in `pricing`.
    public func priced(from pricing: PricingTable) -> Route {
        var route = self
        if let id = modelID, let price = pricing.price(for: id) { route.price = price }
        return route
    }
}

/// What a request needs of a route.
struct RouteRequirements: Sendable, Hashable {
    var tools: Bool
    var structuredOutput: Bool
    /// A rough estimate of prompt plus answer tokens (4 characters a token).
    var estimatedTokens: Int
    var estimatedInputTokens: Int
    var estimatedOutputTokens: Int

    init(_ request: ModelRequest) {
        tools = !request.tools.isEmpty && request.toolChoice != .none
        if case .jsonSchema = request.responseFormat { structuredOutput = true } else { structuredOutput = false }
        var characters = request.system?.count ?? 0
        for message in request.messages { characters += message.text.count }
        estimatedInputTokens = characters / 4 + 1
        estimatedOutputTokens = request.options.maxOutputTokens ?? 1000
        estimatedTokens = estimatedInputTokens + (request.options.maxOutputTokens ?? 0)
    }

    func isMet(by capabilities: ModelCapabilities) -> Bool {
        if tools, !capabilities.toolCalling { return false }
        if structuredOutput, !capabilities.structuredOutput { return false }
        if let window = capabilities.contextWindow, estimatedTokens > window { return false }
        return true
    }

    /// The estimated cost of the request on a route with `price`.
    func estimatedCost(_ price: ModelPrice) -> Double {
        price.cost(of: Usage(inputTokens: estimatedInputTokens, outputTokens: estimatedOutputTokens))
    }
}
