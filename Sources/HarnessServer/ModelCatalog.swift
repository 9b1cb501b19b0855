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

    /// The models of `settings` (or ``defaultModels``), each route configured from
    /// `environment` plus the route's own settings.
    ///
    /// - Throws: ``ProviderConfigurationError`` naming the model, route and what is missing.
    public static func build(
        _ settings: [ModelSettings], environment: [String: String], client: ProviderHTTPClient = .shared
    ) throws -> [String: GatewayModel] {
        var out: [String: GatewayModel] = [:]
        for model in settings.isEmpty ? defaultModels : settings {
            var routes: [RouteModel] = []
            for (i, route) in model.routes.enumerated() {
                let label = "models.\(model.name).routes[\(i)]"
                let base = try makeBase(route, label: label, environment: environment, client: client)
                routes.append(RouteModel(name: "\(route.provider)/\(route.model ?? model.name)", base: base, upstreamModel: route.model ?? model.name))
            }
            guard let first = routes.first else { continue }
            let served: any LanguageModel = routes.count == 1 ? first : OrderedFallbackModel(routes: routes)
            out[model.name] = GatewayModel(name: model.name, model: served, routes: routes, provider: first.providerName, pricedModel: first.upstreamModel)
        }
        return out
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

/// Tries each route in order: a failure before any output moves the request to the next
/// route (retryable upstream errors, connection failures, timeouts); a client error
/// (invalid request) is final. Once a stream has delivered an event it stays on its route.
struct OrderedFallbackModel: LanguageModel {
    let routes: [RouteModel]

    var providerName: String { routes.first?.providerName ?? "none" }
    var capabilities: ModelCapabilities { routes.first?.capabilities ?? ModelCapabilities() }

    static func movesOn(_ error: any Error) -> Bool {
        if let e = error as? ProviderError {
            return e.isRetryable || [.authentication, .permission, .notFound, .connection, .timeout, .server, .overloaded, .rateLimited].contains(e.code)
        }
        if error is CancellationError { return false }
        return true
    }

    func complete(_ request: ModelRequest) async throws -> ModelResponse {
        var last: (any Error)? = nil
        for route in routes {
            do {
                return try await route.complete(request)
            } catch {
                guard Self.movesOn(error) else { throw error }
                last = error
            }
        }
        throw last ?? HarnessError(.modelError, "no route")
    }

    func stream(_ request: ModelRequest) -> ModelEventStream {
        let routes = self.routes
        return ModelEventStream(AsyncThrowingStream<ModelStreamEvent, any Error> { continuation in
            let task = Task {
                var last: (any Error)? = nil
                for route in routes {
                    var delivered = false
                    do {
                        for try await event in route.stream(request) {
                            delivered = true
                            continuation.yield(event)
                        }
                        continuation.finish()
                        return
                    } catch {
                        if delivered || !Self.movesOn(error) {
                            continuation.finish(throwing: error)
                            return
                        }
                        last = error
                    }
                }
                continuation.finish(throwing: last ?? HarnessError(.modelError, "no route"))
            }
            continuation.onTermination = { _ in task.cancel() }
        })
    }
}
