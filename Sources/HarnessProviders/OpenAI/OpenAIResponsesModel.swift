//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// A model behind the OpenAI Responses API (`/v1/responses`).
public struct OpenAIResponsesModel: LanguageModel {
    public var settings: ProviderSettings
    public var apiKey: String?
    public var organization: String?
    public var project: String?
    private let client: ProviderHTTPClient

    public init(
        apiKey: String?,
        settings: ProviderSettings = ProviderSettings(baseURL: "https://api.openai.com/v1", providerName: "openai"),
        organization: String? = nil,
        project: String? = nil,
        client: ProviderHTTPClient = .shared
    ) {
        self.apiKey = apiKey
        self.settings = settings
        self.organization = organization
        self.project = project
        self.client = client
    }

    /// Configured as ``OpenAIChatModel/init(environment:client:)`` is.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        let chat = try OpenAIChatModel(environment: environment, client: client)
        self.init(apiKey: chat.apiKey, settings: chat.settings, organization: chat.organization, project: chat.project, client: client)
    }

    public var providerName: String { settings.providerName }
    public var capabilities: ModelCapabilities { settings.capabilities }

    func httpRequest(_ request: ModelRequest, stream: Bool) -> ProviderHTTPRequest {
        var extra: [(String, String)] = [("content-type", "application/json")]
        if stream { extra.append(("accept", "text/event-stream")) }
        if let apiKey { extra.append(("authorization", "Bearer \(apiKey)")) }
        if let organization { extra.append(("openai-organization", organization)) }
        if let project { extra.append(("openai-project", project)) }
        return ProviderHTTPRequest(
            url: WireJSON.join(settings.baseURL, "/responses"),
            headers: settings.httpHeaders(extra),
            body: OpenAIResponsesWire.body(for: request, stream: stream).canonicalBytes,
            secrets: apiKey.map { [$0] } ?? []
        )
    }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        let provider = providerName
        let (head, body) = try await client.send(httpRequest(request, stream: false), provider: provider, timeouts: settings.timeouts)
        settings.observe(head)
        let json = try WireJSON.parse(bytes: body, provider: provider, requestID: head.requestID, what: "the response")
        return try OpenAIResponsesWire.response(json, provider: provider, requestID: head.requestID)
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        let provider = providerName
        let settings = self.settings
        return client.eventStream(
            httpRequest(request, stream: true),
            provider: provider,
            timeouts: settings.timeouts,
            decodeWhole: { json, head in try OpenAIResponsesWire.response(json, provider: provider, requestID: head.requestID) }
        ) { head in
            settings.observe(head)
            return OpenAIResponsesStreamMapper(provider: provider, requestID: head.requestID)
        }
    }
}
