//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Embeddings from Ollama's `/api/embed` (default host `http://127.0.0.1:11434`).
public struct OllamaEmbedder: Embedder {
    public var settings: ProviderSettings
    private let client: ProviderHTTPClient

    public init(
        settings: ProviderSettings = ProviderSettings(baseURL: "http://127.0.0.1:11434", providerName: "ollama"),
        client: ProviderHTTPClient = .shared
    ) {
        self.settings = settings
        self.client = client
    }

    public var providerName: String { settings.providerName }

    public func embed(_ texts: [String], model: String) async throws -> Embeddings {
        guard !texts.isEmpty else { return Embeddings(vectors: []) }
        let request = ProviderHTTPRequest(
            url: WireJSON.join(settings.baseURL, "/api/embed"),
            headers: settings.httpHeaders([("content-type", "application/json")]),
            body: JSONValue.object(["model": .string(model), "input": .array(texts.map { .string($0) })]).canonicalBytes
        )
        let provider = providerName
        let (head, bytes) = try await client.send(request, provider: provider, timeouts: settings.timeouts)
        let json = try WireJSON.parse(bytes: bytes, provider: provider, requestID: head.requestID, what: "the response")
        guard let items = json["embeddings"]?.arrayValue, items.count == texts.count else {
            throw WireJSON.missing("one embedding per input", provider: provider, requestID: head.requestID)
        }
        let vectors = try items.map { try EmbeddingVector.floats($0.arrayValue ?? [], provider: provider, requestID: head.requestID) }
        try EmbeddingVector.checkComplete(vectors, provider: provider, requestID: head.requestID)
        return Embeddings(
            vectors: vectors,
            usage: Usage(inputTokens: json["prompt_eval_count"]?.intValue ?? 0),
            model: json["model"]?.stringValue
        )
    }
}
