//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Embeddings from OpenAI's `/v1/embeddings`, or any OpenAI-compatible server's.
public struct OpenAIEmbedder: Embedder {
    public var settings: ProviderSettings
    public var apiKey: String?
    /// Asks for vectors of this many dimensions (text-embedding-3 models).
    public var dimensions: Int?
    private let client: ProviderHTTPClient

    public init(
        apiKey: String?,
        settings: ProviderSettings = ProviderSettings(baseURL: "https://api.openai.com/v1", providerName: "openai"),
        dimensions: Int? = nil,
        client: ProviderHTTPClient = .shared
    ) {
        self.apiKey = apiKey
        self.settings = settings
        self.dimensions = dimensions
        self.client = client
    }

    /// Configured from `OPENAI_API_KEY` / `OPENAI_BASE_URL`, as ``OpenAIChatModel`` is.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        let chat = try OpenAIChatModel(environment: environment, client: client)
        self.init(apiKey: chat.apiKey, settings: chat.settings, client: client)
    }

    public var providerName: String { settings.providerName }

    public func embed(_ texts: [String], model: String) async throws -> Embeddings {
        guard !texts.isEmpty else { return Embeddings(vectors: []) }
        var body: [String: JSONValue] = [
            "model": .string(model), "input": .array(texts.map { .string($0) }), "encoding_format": "float",
        ]
        if let dimensions { body["dimensions"] = .integer(dimensions) }
        var extra: [(String, String)] = [("content-type", "application/json")]
        if let apiKey { extra.append(("authorization", "Bearer \(apiKey)")) }
        let request = ProviderHTTPRequest(
            url: WireJSON.join(settings.baseURL, "/embeddings"),
            headers: settings.httpHeaders(extra),
            body: JSONValue.object(body).canonicalBytes,
            secrets: apiKey.map { [$0] } ?? []
        )
        let provider = providerName
        let (head, bytes) = try await client.send(request, provider: provider, timeouts: settings.timeouts)
        settings.observe(head)
        let json = try WireJSON.parse(bytes: bytes, provider: provider, requestID: head.requestID, what: "the response")
        guard let data = json["data"]?.arrayValue else {
            throw WireJSON.missing("data", provider: provider, requestID: head.requestID)
        }
        var vectors = [[Float]](repeating: [], count: texts.count)
        for (position, item) in data.enumerated() {
            let index = item["index"]?.intValue ?? position
            guard vectors.indices.contains(index), let values = item["embedding"]?.arrayValue else {
                throw ProviderError(.invalidResponse, provider: provider, message: "embedding \(position) has no vector or a bad index", requestID: head.requestID)
            }
            vectors[index] = try EmbeddingVector.floats(values, provider: provider, requestID: head.requestID)
        }
        try EmbeddingVector.checkComplete(vectors, provider: provider, requestID: head.requestID)
        return Embeddings(
            vectors: vectors,
            usage: Usage(inputTokens: json["usage"]?["prompt_tokens"]?.intValue ?? 0),
            model: json["model"]?.stringValue
        )
    }
}

/// Checks the embedders share.
enum EmbeddingVector {
    static func floats(_ values: [JSONValue], provider: String, requestID: String?) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(values.count)
        for value in values {
            guard let number = value.doubleValue else {
                throw ProviderError(.invalidResponse, provider: provider, message: "an embedding holds a value that is not a number", requestID: requestID)
            }
            out.append(Float(number))
        }
        return out
    }

    static func checkComplete(_ vectors: [[Float]], provider: String, requestID: String?) throws {
        if let missing = vectors.firstIndex(where: \.isEmpty) {
            throw ProviderError(.invalidResponse, provider: provider, message: "no embedding came back for input \(missing)", requestID: requestID)
        }
    }
}
