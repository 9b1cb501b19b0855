//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Embeddings from Gemini's `models/{model}:batchEmbedContents`. The key goes in the
/// `x-goog-api-key` header, never in the URL. Gemini reports no token counts for embeddings,
/// so usage is zero.
public struct GeminiEmbedder: Embedder {
    public var settings: ProviderSettings
    public var apiKey: String
    /// Truncates vectors to this many dimensions (`outputDimensionality`).
    public var dimensions: Int?
    /// The task the vectors are for (`RETRIEVAL_DOCUMENT`, `RETRIEVAL_QUERY`, `SEMANTIC_SIMILARITY`…).
    public var taskType: String?
    private let client: ProviderHTTPClient

    public init(
        apiKey: String,
        settings: ProviderSettings = ProviderSettings(baseURL: "https://generativelanguage.googleapis.com/v1beta", providerName: "gemini"),
        dimensions: Int? = nil,
        taskType: String? = nil,
        client: ProviderHTTPClient = .shared
    ) {
        self.apiKey = apiKey
        self.settings = settings
        self.dimensions = dimensions
        self.taskType = taskType
        self.client = client
    }

    /// Configured from `GEMINI_API_KEY` (or `GOOGLE_API_KEY`) and an optional `GEMINI_BASE_URL`.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        guard let key = (environment["GEMINI_API_KEY"] ?? environment["GOOGLE_API_KEY"]).flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw ProviderConfigurationError(provider: "gemini", "set GEMINI_API_KEY")
        }
        let base = environment["GEMINI_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://generativelanguage.googleapis.com/v1beta"
        self.init(apiKey: key, settings: ProviderSettings(baseURL: base, providerName: "gemini"), client: client)
    }

    public var providerName: String { settings.providerName }

    public func embed(_ texts: [String], model: String) async throws -> Embeddings {
        guard !texts.isEmpty else { return Embeddings(vectors: []) }
        let name = model.hasPrefix("models/") ? model : "models/\(model)"
        let requests: [JSONValue] = texts.map { text in
            var item: [String: JSONValue] = ["model": .string(name), "content": ["parts": [["text": .string(text)]]]]
            if let dimensions { item["outputDimensionality"] = .integer(dimensions) }
            if let taskType { item["taskType"] = .string(taskType) }
            return .object(item)
        }
        let request = ProviderHTTPRequest(
            url: WireJSON.join(settings.baseURL, "/\(name):batchEmbedContents"),
            headers: settings.httpHeaders([("content-type", "application/json"), ("x-goog-api-key", apiKey)]),
            body: JSONValue.object(["requests": .array(requests)]).canonicalBytes,
            secrets: [apiKey]
        )
        let provider = providerName
        let (head, bytes) = try await client.send(request, provider: provider, timeouts: settings.timeouts)
        let json = try WireJSON.parse(bytes: bytes, provider: provider, requestID: head.requestID, what: "the response")
        guard let items = json["embeddings"]?.arrayValue else {
            throw WireJSON.missing("embeddings", provider: provider, requestID: head.requestID)
        }
        guard items.count == texts.count else {
            throw ProviderError(.invalidResponse, provider: provider, message: "\(items.count) embeddings came back for \(texts.count) inputs", requestID: head.requestID)
        }
        let vectors = try items.map { item in
            try EmbeddingVector.floats(item["values"]?.arrayValue ?? [], provider: provider, requestID: head.requestID)
        }
        try EmbeddingVector.checkComplete(vectors, provider: provider, requestID: head.requestID)
        return Embeddings(vectors: vectors, model: model)
    }
}
