//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Prometheus
import CoreMetrics
public import Harness
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Foundation
public import HarnessConfig
public import HarnessCore
public import HarnessProviders
import HarnessTesting

/// One upstream of a gateway model, with the upstream's own model name.
public struct RouteModel: LanguageModel {
    public let name: String
    public let base: any LanguageModel
    public let upstreamModel: String

    public init(name: String, base: any LanguageModel, upstreamModel: String) {
        self.name = name
        self.base = base
        self.upstreamModel = upstreamModel
    }

    public var providerName: String { base.providerName }
    public var capabilities: ModelCapabilities { base.capabilities }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        var r = request
        r.model = upstreamModel
        return try await base.complete(r)
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        var r = request
        r.model = upstreamModel
        return base.stream(r)
    }
}

/// A model the gateway offers: its name, the model that serves it (a route, or a router
/// over several) and the provider named in metrics and the usage ledger.
public struct GatewayModel: Sendable {
    public var name: String
    public var model: any LanguageModel
    public var routes: [RouteModel]
    /// The first route's provider (metrics label).
    public var provider: String
    /// The first route's upstream model name (pricing).
    public var pricedModel: String
    /// The price of one call's usage, looked up once (the pricing table matches by prefix).
    public var price: ModelPrice? = nil
}

/// Builds the gateway's models from configuration.
public enum ModelCatalog {
    /// The model offered when the configuration declares none: the rule-based ``EchoModel``.
    public static let defaultModels = [ModelSettings(name: "scripted", routes: [RouteSettings(provider: "scripted")])]

    /// The models of `configuration` (or ``defaultModels``), each route configured from
    /// `environment` plus the route's own settings, and served through a ``Router`` with the
    /// configured strategy, retries, circuit breakers and hedging.
    ///
    /// - Parameter health: passes over routes its checks found dead.
    /// - Throws: ``ProviderConfigurationError`` naming the model, route and what is missing.
    public static func build(
        _ configuration: HarnessConfiguration,
        environment: [String: String],
        client: ProviderHTTPClient = .shared,
        health: HealthChecker? = nil,
        onBreakerTransition: (@Sendable (CircuitBreaker.Transition) -> Void)? = nil
    ) throws -> [String: GatewayModel] {
        var out: [String: GatewayModel] = [:]
        let pricing = configuration.pricingTable
        for model in configuration.models.isEmpty ? defaultModels : configuration.models {
            var routes: [RouteModel] = []
            var resilient: [Route] = []
            for (i, route) in model.routes.enumerated() {
                let label = "models.\(model.name).routes[\(i)]"
                let base = try makeBase(route, label: label, environment: environment, client: client)
                let served = RouteModel(name: routeName(route, model: model.name), base: base, upstreamModel: route.model ?? model.name)
                routes.append(served)
                resilient.append(Route(
                    name: served.name, model: served, modelID: served.upstreamModel, weight: route.weight,
                    price: pricing.price(for: served.upstreamModel)
                ))
            }
            guard let first = routes.first else { continue }
            let strategy = RoutingStrategy(rawValue: model.strategy) ?? configuration.routing.strategy
            let router = Router(
                name: model.name,
                routes: resilient,
                configuration: Router.Configuration(
                    strategy: strategy, retry: configuration.retry, circuitBreaker: configuration.circuitBreaker,
                    hedgeDelay: configuration.routing.hedgeDelay
                ),
                health: health,
                onBreakerTransition: onBreakerTransition
            )
            out[model.name] = GatewayModel(name: model.name, model: router, routes: routes, provider: first.providerName, pricedModel: first.upstreamModel)
        }
        return out
    }

    /// A route's name: provider, upstream model and (when set) host, e.g. `openai/gpt-4o-mini@api.example.com`.
    static func routeName(_ route: RouteSettings, model: String) -> String {
        var name = "\(route.provider)/\(route.model ?? model)"
        if let base = route.baseURL, let host = URLComponents(string: base)?.host {
            name += "@\(host)"
            if let port = URLComponents(string: base)?.port { name += ":\(port)" }
        }
        return name
    }

    /// A cheap check per route with an address: an HTTP GET of its base URL. Any answer (even
    /// 401 or 404) means the route is reachable; a refused or timed-out connection means it
    /// is not. Scripted routes need no check.
    public static func healthChecks(_ configuration: HarnessConfiguration) -> [String: HealthChecker.Check] {
        var checks: [String: HealthChecker.Check] = [:]
        for model in configuration.models.isEmpty ? defaultModels : configuration.models {
            for route in model.routes {
                guard let base = route.baseURL else { continue }
                checks[routeName(route, model: model.name)] = {
                    var request = HTTPClientRequest(url: base)
                    request.method = .GET
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
                    _ = try await response.body.collect(upTo: 1 << 16)
                }
            }
        }
        return checks
    }

    /// An embedder per model whose first route's provider has one.
    public static func embedders(_ settings: [ModelSettings], environment: [String: String], client: ProviderHTTPClient = .shared) -> [String: any Embedder] {
        var out: [String: any Embedder] = [:]
        for model in settings.isEmpty ? defaultModels : settings {
            guard let route = model.routes.first else { continue }
            guard let env = try? routeEnvironment(route, label: model.name, environment: environment) else { continue }
            switch route.provider {
            case "scripted": out[model.name] = HashEmbedder()
            case "openai", "openai-responses": out[model.name] = try? OpenAIEmbedder(environment: env, client: client)
            case "gemini": out[model.name] = try? GeminiEmbedder(environment: env, client: client)
            case "bedrock": out[model.name] = try? BedrockEmbedder(environment: env, client: client)
            default: break
            }
        }
        return out
    }

    static func makeBase(_ route: RouteSettings, label: String, environment: [String: String], client: ProviderHTTPClient) throws -> any LanguageModel {
        if route.provider == "scripted" { return EchoModel() }
        let env = try routeEnvironment(route, label: label, environment: environment)
        do {
            return try ProviderCatalog.model(route.provider, environment: env, client: client)
        } catch let error as ProviderConfigurationError {
            throw ProviderConfigurationError(provider: route.provider, "\(label): \(error.message)")
        }
    }

    /// The environment a route's provider reads: the process's, with the route's base URL,
    /// key variable and region put where the provider's own variables are.
    static func routeEnvironment(_ route: RouteSettings, label: String, environment: [String: String]) throws -> [String: String] {
        var env = environment
        let names: (base: String, key: String)
        switch route.provider {
        case "openai", "openai-responses": names = ("OPENAI_BASE_URL", "OPENAI_API_KEY")
        case "anthropic": names = ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY")
        case "gemini": names = ("GEMINI_BASE_URL", "GEMINI_API_KEY")
        case "ollama": names = ("OLLAMA_HOST", "OLLAMA_API_KEY")
        case "bedrock": names = ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "")
        case "scripted": return env
        default: throw ProviderConfigurationError(provider: route.provider, "\(label): unknown provider")
        }
        if let base = route.baseURL { env[names.base] = base }
        if let keyEnv = route.apiKeyEnv {
            guard let key = environment[keyEnv], !key.isEmpty else {
                throw ProviderConfigurationError(provider: route.provider, "\(label): api_key_env names \(keyEnv), which is not set")
            }
            if !names.key.isEmpty { env[names.key] = key }
        }
        if let region = route.region { env["AWS_REGION"] = region }
        return env
    }
}
