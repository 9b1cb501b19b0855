//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import CoreMetrics
public import Foundation
public import Harness
public import HarnessConfig
public import HarnessCore
public import HarnessProviders
public import Logging
public import Prometheus
import Synchronization

/// The stores the gateway uses: keys and usage, and conversations for agent runs.
public struct GatewayStores: Sendable {
    public var keys: any VirtualKeyStore
    public var ledger: any UsageLedger
    public var conversations: (any ConversationStore)?
    /// A cheap query proving the stores answer (for `/health/ready`).
    public var check: @Sendable () async throws -> Void

    public init(
        keys: any VirtualKeyStore, ledger: any UsageLedger, conversations: (any ConversationStore)? = nil,
        check: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.keys = keys
        self.ledger = ledger
        self.conversations = conversations
        self.check = check
    }

    /// Stores in memory (tests, and `harness serve --storage memory`).
    public static func inMemory() -> GatewayStores {
        GatewayStores(keys: InMemoryVirtualKeyStore(), ledger: InMemoryUsageLedger(), conversations: InMemoryConversationStore())
    }
}

/// The gateway: every model the configuration declares behind the OpenAI and Anthropic
/// wire formats, agents run server-side, virtual keys, usage, metrics and health.
///
/// It holds no HTTP server itself: ``makeRouter()`` gives the Hummingbird routes, and
/// ``GatewayServer`` runs them with the usage recorder under a service group.
public final class Gateway: Sendable {
    public let configuration: HarnessConfiguration
    public let models: [String: GatewayModel]
    public let modelNames: [String]
    let agents: [String: Agent]
    let orchestrator: Orchestrator
    public let authenticator: KeyAuthenticator
    public let recorder: UsageRecorder
    public let metrics: GatewayMetrics
    public let registry: PrometheusCollectorRegistry
    public let stores: GatewayStores
    let pricing: PricingTable
    let logger: Logger
    let embedders: [String: any Embedder]
    /// Periodic checks of the routes with an address (none when every route is scripted).
    public let health: HealthChecker?
    /// The models ``GatewayRelay`` may serve (see `server.relay`).
    let relayRoutes: [String: RelayRoute]
    /// Requests the relay served, and ones it handed to the full path after asking upstream.
    let relayed = Atomic<Int>(0)
    let relayReplays = Atomic<Int>(0)
    /// Relayed streams that broke after events went out and were resumed through the router.
    let relayResumes = Atomic<Int>(0)
    /// Reads from a relay's upstream held back because its client was not taking more.
    let relayReadsHeld = Atomic<Int>(0)
    /// Of the relayed requests, the ones ``RelayFront`` read from the connection's bytes.
    let relayedFromBytes = Atomic<Int>(0)

    /// Requests served by the relay so far (``GatewayServer`` installs it).
    public var relayedRequests: Int { relayed.load(ordering: .relaxed) }
    /// Relayed requests the upstream did not answer with a good 200, served again by the full path.
    public var relayReplayedRequests: Int { relayReplays.load(ordering: .relaxed) }
    /// The models the relay may serve.
    public var relayModelNames: [String] { relayRoutes.keys.sorted() }

    /// - Parameters:
    ///   - environment: where routes find their keys (`api_key_env`) and the admin key.
    ///   - registry: the Prometheus registry `/metrics` shows; pass the one the process's
    ///     `MetricsSystem` was bootstrapped with to include the library's metrics.
    /// - Throws: a configuration error naming the model or agent at fault.
    public init(
        configuration: HarnessConfiguration,
        stores: GatewayStores,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        client: ProviderHTTPClient = .shared,
        logger: Logger = Logger(label: "harness.gateway")
    ) throws {
        self.configuration = configuration
        self.stores = stores
        self.logger = logger
        self.registry = registry
        self.pricing = configuration.pricingTable
        let metrics = GatewayMetrics(factory: HelpfulPrometheusFactory(registry: registry))
        self.metrics = metrics
        let checks = ModelCatalog.healthChecks(configuration)
        let health = checks.isEmpty ? nil : HealthChecker(
            checks: checks, configuration: HealthChecker.Configuration(interval: configuration.routing.healthCheckInterval),
            onChange: { route, healthy in
                logger.warning("route health changed", metadata: ["event": "route_health", "route": "\(route)", "healthy": "\(healthy)"])
            }
        )
        self.health = health
        var models = try ModelCatalog.build(
            configuration, environment: environment, client: client, health: health,
            onBreakerTransition: { transition in metrics.breaker(transition) }
        )
        for (name, model) in models {
            models[name]?.price = configuration.pricingTable.price(for: model.pricedModel) ?? configuration.pricingTable.price(for: name)
        }
        self.models = models
        self.modelNames = models.keys.sorted()
        self.relayRoutes = RelayRoute.routes(configuration, models: models, client: client)
        self.embedders = ModelCatalog.embedders(configuration.models, environment: environment, client: client)
        let factory = HarnessFactory(configuration: configuration)
        var orchestratorConfig = Orchestrator.Configuration()
        orchestratorConfig.conversationStore = stores.conversations
        orchestratorConfig.logger = logger
        // The orchestrator's metrics land in the same registry as the gateway's (/metrics).
        orchestratorConfig.observability = Observability(
            metricsFactory: HelpfulPrometheusFactory(registry: registry), pricing: configuration.pricingTable
        )
        self.orchestrator = Orchestrator(configuration: orchestratorConfig)
        var agents: [String: Agent] = [:]
        for settings in configuration.agents {
            guard let model = models[settings.model] else {
                throw HarnessError(.invalidConfiguration, "agents.\(settings.name).model: no model named '\(settings.model)'")
            }
            var tools: [any Tool] = []
            for name in settings.tools {
                guard let tool = BuiltinTools.all[name] else {
                    throw HarnessError(.invalidConfiguration, "agents.\(settings.name).tools: no built-in tool named '\(name)' (known: \(BuiltinTools.all.keys.sorted().joined(separator: ", ")))")
                }
                tools.append(tool)
            }
            var agent = try factory.makeAgent(name: settings.name, instructions: settings.instructions, model: model.model, modelID: settings.model, tools: tools)
            if let n = settings.maxIterations { agent.policy.maxIterations = n }
            agents[settings.name] = agent
        }
        self.agents = agents
        let adminKey = environment[configuration.server.adminKeyEnv]
        self.authenticator = KeyAuthenticator(
            store: stores.keys, ledger: stores.ledger, tenant: configuration.server.tenant,
            adminKey: adminKey, mode: configuration.server.auth
        )
        self.recorder = UsageRecorder(ledger: stores.ledger, logger: logger)
    }

    /// The agents' names.
    public var agentNames: [String] { agents.keys.sorted() }

    func model(named name: String) throws -> GatewayModel {
        guard let model = models[name] else {
            throw GatewayError(.notFound, code: "model_not_found", "the model '\(name)' does not exist; available: \(modelNames.joined(separator: ", "))", param: "model")
        }
        return model
    }

    /// Cost of `usage` on `model` (0 when the pricing table has no price for it).
    func cost(_ usage: Usage, model: GatewayModel) -> Double {
        model.price?.cost(of: usage) ?? 0
    }

    /// Books a served (or failed) model call: usage ledger, key spend, token bucket, metrics.
    ///
    /// `countsProviderMetrics` is false for agent runs: the orchestrator counts their model
    /// calls itself.
    func book(
        principal: Principal, model: GatewayModel, usage: Usage?, status: String, started: ContinuousClock.Instant, requestID: String,
        countsProviderMetrics: Bool = true
    ) {
        let usage = usage ?? .zero
        let cost = cost(usage, model: model)
        let elapsed = ContinuousClock.now - started
        if countsProviderMetrics {
            if status == "ok" {
                metrics.providerCall(provider: model.provider, usage: usage, cost: cost)
            } else {
                metrics.providerError(provider: model.provider, code: status)
            }
        }
        if case .key(let key) = principal {
            authenticator.charge(key.id, cost)
            authenticator.consumeTokens(key, usage.totalTokens)
        }
        recorder.add(UsageRecord(
            id: requestID, tenant: configuration.server.tenant, apiKeyID: principal.keyID, model: model.name,
            provider: model.provider, usage: usage, costUSD: cost,
            latencyMilliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
            status: status
        ))
    }

    /// Whether the stores answer and at least one model is configured.
    public func readiness() async -> (ready: Bool, checks: [(String, String)]) {
        var checks: [(String, String)] = []
        var ready = true
        do {
            try await stores.check()
            checks.append(("stores", "ok"))
        } catch {
            ready = false
            checks.append(("stores", "failed: \(error)"))
        }
        if models.isEmpty {
            ready = false
            checks.append(("models", "none configured"))
        } else {
            checks.append(("models", "\(models.count) configured"))
        }
        if let health {
            let status = health.status
            let healthy = status.values.filter(\.healthy).count
            checks.append(("routes", "\(healthy) of \(status.count) healthy"))
            if !health.isReady { ready = false }
        }
        return (ready, checks)
    }
}
