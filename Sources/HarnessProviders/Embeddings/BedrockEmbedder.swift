//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Embeddings from Bedrock's `InvokeModel`, signed as ``BedrockModel`` signs: Amazon Titan
/// text embeddings (`amazon.titan-embed-text-v2:0`, one text per request, sent a few at a
/// time) and Cohere Embed (`cohere.embed-…`, one request for all texts).
public struct BedrockEmbedder: Embedder {
    public var model: BedrockModel
    /// Titan: vector size (256, 512 or 1024) and whether to normalise.
    public var dimensions: Int?
    public var normalize: Bool
    /// Cohere: `search_document`, `search_query`, `classification` or `clustering`.
    public var inputType: String
    /// Titan requests in flight at once.
    public var concurrency: Int

    public init(model: BedrockModel, dimensions: Int? = nil, normalize: Bool = true, inputType: String = "search_document", concurrency: Int = 8) {
        self.model = model
        self.dimensions = dimensions
        self.normalize = normalize
        self.inputType = inputType
        self.concurrency = max(1, concurrency)
    }

    /// Configured from the AWS environment, as ``BedrockModel/init(environment:client:)`` is.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        self.init(model: try BedrockModel(environment: environment, client: client))
    }

    public var providerName: String { model.providerName }

    public func embed(_ texts: [String], model id: String) async throws -> Embeddings {
        guard !texts.isEmpty else { return Embeddings(vectors: []) }
        if id.lowercased().contains("cohere.embed") { return try await cohere(texts, id) }
        let model = self.model
        let dimensions = self.dimensions
        let normalize = self.normalize
        var vectors = [[Float]](repeating: [], count: texts.count)
        var tokens = 0
        try await withThrowingTaskGroup(of: (Int, [Float], Int).self) { group in
            var next = 0
            func submit() {
                let index = next
                next += 1
                group.addTask {
                    var body: [String: JSONValue] = ["inputText": .string(texts[index]), "normalize": .bool(normalize)]
                    if let dimensions { body["dimensions"] = .integer(dimensions) }
                    let json = try await Self.invoke(model, id, JSONValue.object(body).canonicalBytes)
                    let vector = try EmbeddingVector.floats(json.0["embedding"]?.arrayValue ?? [], provider: model.providerName, requestID: json.1)
                    return (index, vector, json.0["inputTextTokenCount"]?.intValue ?? 0)
                }
            }
            while next < min(concurrency, texts.count) { submit() }
            while let (index, vector, count) = try await group.next() {
                vectors[index] = vector
                tokens += count
                if next < texts.count { submit() }
            }
        }
        try EmbeddingVector.checkComplete(vectors, provider: providerName, requestID: nil)
        return Embeddings(vectors: vectors, usage: Usage(inputTokens: tokens), model: id)
    }

    private func cohere(_ texts: [String], _ id: String) async throws -> Embeddings {
        let body: JSONValue = ["texts": .array(texts.map { .string($0) }), "input_type": .string(inputType)]
        let (json, requestID) = try await Self.invoke(model, id, body.canonicalBytes)
        let items = json["embeddings"]?.arrayValue ?? []
        guard items.count == texts.count else {
            throw ProviderError(.invalidResponse, provider: providerName, message: "\(items.count) embeddings came back for \(texts.count) inputs", requestID: requestID)
        }
        let vectors = try items.map { try EmbeddingVector.floats($0.arrayValue ?? [], provider: providerName, requestID: requestID) }
        try EmbeddingVector.checkComplete(vectors, provider: providerName, requestID: requestID)
        return Embeddings(vectors: vectors, model: id)
    }

    private static func invoke(_ model: BedrockModel, _ id: String, _ body: [UInt8]) async throws -> (JSONValue, String?) {
        let request = try model.signedRequest(model: id, action: "invoke", body: body, accept: "application/json")
        let (head, bytes) = try await model.client.send(request, provider: model.providerName, timeouts: model.settings.timeouts)
        return (try WireJSON.parse(bytes: bytes, provider: model.providerName, requestID: head.requestID, what: "the response"), head.requestID)
    }
}
