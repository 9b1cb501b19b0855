//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// A model behind the OpenAI Chat Completions API — OpenAI itself, or any OpenAI-compatible
/// server (vLLM, llama.cpp server, LM Studio, Together, Groq, a LiteLLM proxy…) by base URL.
///
/// ```swift
/// let model = try OpenAIChatModel(environment: ProcessInfo.processInfo.environment)
/// let answer = try await model.complete(ModelRequest(model: "gpt-4o-mini", messages: [.user("Hi")]))
/// ```
public struct OpenAIChatModel: LanguageModel {
    public var settings: ProviderSettings
    /// Sent as `Authorization: Bearer …`; may be nil for local servers.
    public var apiKey: String?
    public var organization: String?
    public var project: String?
    public var maxTokensField: OpenAIChatWire.MaxTokensField
    private let client: ProviderHTTPClient

    public init(
        apiKey: String?,
        settings: ProviderSettings = ProviderSettings(baseURL: "https://api.openai.com/v1", providerName: "openai"),
        organization: String? = nil,
        project: String? = nil,
        maxTokensField: OpenAIChatWire.MaxTokensField = .maxCompletionTokens,
        client: ProviderHTTPClient = .shared
    ) {
        self.apiKey = apiKey
        self.settings = settings
        self.organization = organization
        self.project = project
        self.maxTokensField = maxTokensField
        self.client = client
    }

    /// The model the OpenAI SDKs' environment variables describe: `OPENAI_API_KEY` (required
    /// unless `OPENAI_BASE_URL` names another server), `OPENAI_BASE_URL`, `OPENAI_ORG_ID`,
    /// `OPENAI_PROJECT_ID`.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        let key = environment["OPENAI_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let base = environment["OPENAI_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard key != nil || base != nil else {
            throw ProviderConfigurationError(
                provider: "openai",
                "set OPENAI_API_KEY (and OPENAI_BASE_URL for an OpenAI-compatible server)"
            )
        }
        self.init(
            apiKey: key,
            settings: ProviderSettings(baseURL: base ?? "https://api.openai.com/v1", providerName: "openai"),
            organization: environment["OPENAI_ORG_ID"],
            project: environment["OPENAI_PROJECT_ID"],
            client: client
        )
    }

    public var providerName: String { settings.providerName }
    public var capabilities: ModelCapabilities { settings.capabilities }

    func httpRequest(_ request: ModelRequest, stream: Bool) -> ProviderHTTPRequest {
        var r = requestTemplate(stream: stream)
        r.body = OpenAIChatWire.body(for: request, stream: stream, maxTokensField: maxTokensField).canonicalBytes
        return r
    }

    /// A chat completions request with its URL and headers (the key included) and no body:
    /// what a relay that forwards a client's own JSON sends. `secrets` holds the key, for
    /// redaction.
    public func requestTemplate(stream: Bool) -> ProviderHTTPRequest {
        var extra: [(String, String)] = [("content-type", "application/json")]
        if stream { extra.append(("accept", "text/event-stream")) }
        if let apiKey { extra.append(("authorization", "Bearer \(apiKey)")) }
        if let organization { extra.append(("openai-organization", organization)) }
        if let project { extra.append(("openai-project", project)) }
        return ProviderHTTPRequest(
            url: WireJSON.join(settings.baseURL, "/chat/completions"),
            headers: settings.httpHeaders(extra),
            secrets: apiKey.map { [$0] } ?? []
        )
    }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        let provider = providerName
        let (head, body) = try await client.send(httpRequest(request, stream: false), provider: provider, timeouts: settings.timeouts)
        settings.observe(head)
        let json = try WireJSON.parse(bytes: body, provider: provider, requestID: head.requestID, what: "the response")
        return try OpenAIChatWire.response(json, provider: provider, requestID: head.requestID)
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        let provider = providerName
        let settings = self.settings
        return client.eventStream(
            httpRequest(request, stream: true),
            provider: provider,
            timeouts: settings.timeouts,
            decodeWhole: { json, head in try OpenAIChatWire.response(json, provider: provider, requestID: head.requestID) }
        ) { head in
            settings.observe(head)
            return OpenAIChatStreamMapper(provider: provider, requestID: head.requestID)
        }
    }
}
