//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// A Claude model behind the Anthropic Messages API (`POST {baseURL}/v1/messages`).
///
/// ```swift
/// let model = try AnthropicModel(environment: ProcessInfo.processInfo.environment)
/// let answer = try await model.complete(ModelRequest(model: "claude-sonnet-4-5", messages: [.user("Hi")]))
/// ```
///
/// The API requires `max_tokens`: requests without `options.maxOutputTokens` are sent with
/// ``defaultMaxTokens`` (4096 unless set). The API has no `response_format`, so
/// ``capabilities`` reports `structuredOutput: false` whatever the settings say: the
/// orchestrator then states the schema in the instructions and checks the answer. See
/// ``AnthropicWire`` for how messages, tools and images are sent and
/// ``AnthropicStreamMapper`` for how the stream is read.
public struct AnthropicModel: LanguageModel {
    /// Anthropic's API, without the `/v1` (the path `/v1/messages` is appended).
    public static let defaultBaseURL = "https://api.anthropic.com"

    public var settings: ProviderSettings
    /// Sent as `x-api-key`.
    public var apiKey: String
    /// The `max_tokens` of requests that set no `maxOutputTokens`.
    public var defaultMaxTokens: Int
    private let client: ProviderHTTPClient

    public init(
        apiKey: String,
        settings: ProviderSettings = ProviderSettings(baseURL: AnthropicModel.defaultBaseURL, providerName: "anthropic"),
        defaultMaxTokens: Int = AnthropicWire.defaultMaxTokens,
        client: ProviderHTTPClient = .shared
    ) {
        self.apiKey = apiKey
        self.settings = settings
        self.defaultMaxTokens = defaultMaxTokens
        self.client = client
    }

    /// The model the Anthropic SDKs' environment variables describe: `ANTHROPIC_API_KEY`
    /// (required) and `ANTHROPIC_BASE_URL` (optional, without `/v1`).
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        guard let key = environment["ANTHROPIC_API_KEY"], !key.isEmpty else {
            throw ProviderConfigurationError(provider: "anthropic", "set ANTHROPIC_API_KEY")
        }
        let base = environment["ANTHROPIC_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(
            apiKey: key,
            settings: ProviderSettings(baseURL: base ?? Self.defaultBaseURL, providerName: "anthropic"),
            client: client
        )
    }

    public var providerName: String { settings.providerName }

    /// The settings' capabilities, with `structuredOutput` always false (the Messages API
    /// cannot constrain an answer to a schema).
    public var capabilities: ModelCapabilities {
        var capabilities = settings.capabilities
        capabilities.structuredOutput = false
        return capabilities
    }

    func httpRequest(_ request: ModelRequest, stream: Bool) -> ProviderHTTPRequest {
        var extra: [(String, String)] = [
            ("content-type", "application/json"),
            ("x-api-key", apiKey),
            ("anthropic-version", AnthropicWire.version),
        ]
        if stream { extra.append(("accept", "text/event-stream")) }
        return ProviderHTTPRequest(
            url: WireJSON.join(settings.baseURL, "/v1/messages"),
            headers: settings.httpHeaders(extra),
            body: AnthropicWire.body(for: request, stream: stream, defaultMaxTokens: defaultMaxTokens).canonicalBytes,
            secrets: [apiKey]
        )
    }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        let provider = providerName
        let (head, body) = try await client.send(httpRequest(request, stream: false), provider: provider, timeouts: settings.timeouts)
        settings.observe(head)
        let json = try WireJSON.parse(bytes: body, provider: provider, requestID: head.requestID, what: "the response")
        return try AnthropicWire.response(json, provider: provider, requestID: head.requestID)
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        let provider = providerName
        let settings = self.settings
        return client.eventStream(
            httpRequest(request, stream: true),
            provider: provider,
            timeouts: settings.timeouts,
            decodeWhole: { json, head in try AnthropicWire.response(json, provider: provider, requestID: head.requestID) }
        ) { head in
            settings.observe(head)
            return AnthropicStreamMapper(provider: provider, requestID: head.requestID)
        }
    }
}
