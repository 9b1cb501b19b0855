//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The gateway's part of `harness.yaml`: the server, the models it offers and the agents it runs.
///
/// ```yaml
/// server:
///   host: 127.0.0.1
///   port: 8080
///   max_body_size: 4194304        # bytes
///   auth: auto                    # auto | required | disabled
///   admin_key_env: HARNESS_ADMIN_KEY
///   tenant: default
///   shutdown_timeout: 30s
///   relay: true                   # plain chat requests to one-route OpenAI-compatible models on the event loop
/// models:
///   gpt-4o-mini:                  # the name clients send
///     strategy: fallback          # fallback | round_robin | weighted | least_latency | cost_optimized
///     routes:
///       - provider: openai        # openai | openai-responses | anthropic | gemini | bedrock | ollama | scripted
///         model: gpt-4o-mini      # the upstream's name (default: the model's name)
///         base_url: https://api.openai.com/v1
///         api_key_env: OPENAI_API_KEY
///       - provider: anthropic
///         model: claude-haiku-4-5
///   echo:
///     provider: scripted          # one route, written inline
/// agents:
///   weather:
///     model: echo
///     instructions: You answer questions about the weather.
///     tools: [get_weather, convert_temperature]
///     max_iterations: 6
/// ```
public struct GatewaySettings: Sendable, Hashable {
    public enum AuthMode: String, Sendable, Hashable, CaseIterable {
        /// Keys are required once an admin key is set or a virtual key exists.
        case auto
        case required
        /// No authentication (the server says so when it starts).
        case disabled
    }

    public var host = "127.0.0.1"
    public var port = 8080
    public var maxBodySize = 4 << 20
    public var auth = AuthMode.auto
    /// The environment variable holding the admin key (never the key itself in the file).
    public var adminKeyEnv = "HARNESS_ADMIN_KEY"
    /// The tenant the gateway's keys, usage and conversations belong to.
    public var tenant = "default"
    public var shutdownTimeout: Duration = .seconds(30)
    /// Whether non-streamed OpenAI-format requests to a model with one OpenAI-compatible
    /// route over plain HTTP are relayed on the connection's event loop (the client's JSON
    /// forwarded with the model renamed), falling back to the full path for anything else.
    public var relay = true

    public init() {}
}

/// One upstream of a model: a provider, its model name and where to reach it.
public struct RouteSettings: Sendable, Hashable {
    /// `openai`, `openai-responses`, `anthropic`, `gemini`, `bedrock`, `ollama` or `scripted`.
    public var provider: String
    /// The upstream's model name; `nil` uses the logical model's name.
    public var model: String?
    /// The provider's base URL (Ollama: its host); `nil` uses the provider's environment or default.
    public var baseURL: String?
    /// The environment variable holding the API key; `nil` uses the provider's usual one.
    public var apiKeyEnv: String?
    /// The share of traffic under the `weighted` strategy.
    public var weight: Double = 1
    /// The AWS region (Bedrock).
    public var region: String?

    public init(provider: String, model: String? = nil, baseURL: String? = nil, apiKeyEnv: String? = nil, weight: Double = 1, region: String? = nil) {
        self.provider = provider
        self.model = model
        self.baseURL = baseURL
        self.apiKeyEnv = apiKeyEnv
        self.weight = weight
        self.region = region
    }

    /// The provider names a route may use.
    public static let providers = ["openai", "openai-responses", "anthropic", "gemini", "bedrock", "ollama", "scripted"]
}

/// A model the gateway offers: a name and its routes.
public struct ModelSettings: Sendable, Hashable {
    public var name: String
    /// `fallback`, `round_robin`, `weighted`, `least_latency` or `cost_optimized`.
    public var strategy = "fallback"
    public var routes: [RouteSettings]

    public init(name: String, strategy: String = "fallback", routes: [RouteSettings]) {
        self.name = name
        self.strategy = strategy
        self.routes = routes
    }

    public static let strategies = ["fallback", "round_robin", "weighted", "least_latency", "cost_optimized"]
}

/// An agent the gateway runs server-side (`POST /v1/agents/{name}/runs`).
public struct AgentSettings: Sendable, Hashable {
    public var name: String
    /// The name of one of the configured models.
    public var model: String
    public var instructions: String?
    /// Names of built-in tools.
    public var tools: [String] = []
    /// Overrides `policy.max_iterations` for this agent.
    public var maxIterations: Int?

    public init(name: String, model: String, instructions: String? = nil, tools: [String] = [], maxIterations: Int? = nil) {
        self.name = name
        self.model = model
        self.instructions = instructions
        self.tools = tools
        self.maxIterations = maxIterations
    }
}
