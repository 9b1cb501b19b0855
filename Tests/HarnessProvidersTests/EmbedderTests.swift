//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import HarnessProviders
import HarnessProvidersTesting
import Testing

/// Embedders against a local server speaking each API (shapes from each provider's
/// embeddings reference: OpenAI /v1/embeddings, Gemini batchEmbedContents, Ollama /api/embed).
@Suite struct EmbedderTests {
    @Test func openAIOrdersByIndexAndReadsUsage() async throws {
        // The data comes back out of order: vectors must follow the input order.
        let server = try await WireTestServer.start { _ in
            .json(#"{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.5,-1]},{"object":"embedding","index":0,"embedding":[0.25,2e-3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":9,"total_tokens":9}}"#)
        }
        defer { server.shutdown() }
        let embedder = OpenAIEmbedder(apiKey: "sk-emb-1234567890abcdef", settings: ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai"), dimensions: 2)
        let result = try await embedder.embed(["first", "second"], model: "text-embedding-3-small")
        #expect(result.vectors == [[0.25, 0.002], [0.5, -1]])
        #expect(result.usage.inputTokens == 9)
        let sent = try JSONValue(parsingBytes: try #require(server.requests.first).body)
        #expect(sent == ["model": "text-embedding-3-small", "input": ["first", "second"], "encoding_format": "float", "dimensions": 2])
        #expect(server.requests.first?.uri == "/v1/embeddings")
    }

    @Test func openAIMissingVectorIsAnError() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"data":[{"index":0,"embedding":[1]}],"usage":{"prompt_tokens":2}}"#)
        }
        defer { server.shutdown() }
        let embedder = OpenAIEmbedder(apiKey: nil, settings: ProviderSettings(baseURL: server.baseURL, providerName: "vllm"))
        let error = try await #require(throws: ProviderError.self) { try await embedder.embed(["a", "b"], model: "m") }
        #expect(error.code == .invalidResponse)
        #expect(error.message.contains("input 1"))
    }

    @Test func gemini() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"embeddings":[{"values":[0.1,0.2,0.3]},{"values":[0.4,0.5,0.6]}]}"#)
        }
        defer { server.shutdown() }
        let key = "AIzaSyTESTKEY0123456789abcdef"
        let embedder = GeminiEmbedder(apiKey: key, settings: ProviderSettings(baseURL: server.baseURL + "/v1beta", providerName: "gemini"), dimensions: 3, taskType: "RETRIEVAL_QUERY")
        let result = try await embedder.embed(["a", "b"], model: "gemini-embedding-001")
        #expect(result.vectors.count == 2)
        #expect(result.vectors[1] == [0.4, 0.5, 0.6])
        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/v1beta/models/gemini-embedding-001:batchEmbedContents")
        #expect(sent.header("x-goog-api-key") == key)
        #expect(!sent.uri.contains(key))
        let body = try JSONValue(parsingBytes: sent.body)
        #expect(body["requests"]?[0] == ["model": "models/gemini-embedding-001", "content": ["parts": [["text": "a"]]], "outputDimensionality": 3, "taskType": "RETRIEVAL_QUERY"])
    }

    @Test func geminiErrorDoesNotLeakTheKey() async throws {
        let key = "AIzaSyTESTKEY0123456789abcdef"
        let server = try await WireTestServer.start { _ in
            .json(#"{"error":{"code":400,"message":"API key not valid: AIzaSyTESTKEY0123456789abcdef","status":"INVALID_ARGUMENT"}}"#, status: 400)
        }
        defer { server.shutdown() }
        let embedder = GeminiEmbedder(apiKey: key, settings: ProviderSettings(baseURL: server.baseURL, providerName: "gemini"))
        let error = try await #require(throws: ProviderError.self) { try await embedder.embed(["a"], model: "gemini-embedding-001") }
        #expect(!error.description.contains(key))
        #expect(error.status == 400)
    }

    @Test func ollama() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862],[-0.0098027075,0.06042469]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#)
        }
        defer { server.shutdown() }
        let embedder = OllamaEmbedder(settings: ProviderSettings(baseURL: server.baseURL, providerName: "ollama"))
        let result = try await embedder.embed(["Why is the sky blue?", "Why is the grass green?"], model: "all-minilm")
        #expect(result.vectors == [[0.010071029, -0.0017594862], [-0.0098027075, 0.06042469]])
        #expect(result.usage.inputTokens == 8)
        #expect(server.requests.first?.uri == "/api/embed")
    }
}

/// Bedrock embeddings (shapes from the Bedrock user guide's Titan Text Embeddings V2 and
/// Cohere Embed request/response pages), signed requests to a local server.
@Suite struct BedrockEmbedderTests {
    static func embedder(_ server: WireTestServer) -> BedrockEmbedder {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let model = BedrockModel(credentials: credentials, region: "us-east-1", settings: ProviderSettings(baseURL: server.baseURL, providerName: "bedrock"))
        return BedrockEmbedder(model: model, dimensions: 256)
    }

    @Test func titanOneRequestPerTextInOrder() async throws {
        let server = try await WireTestServer.start { request in
            let text = (try? JSONValue(parsingBytes: request.body))?["inputText"]?.stringValue ?? ""
            return .json(#"{"embedding":[\#(text.count),0.5],"inputTextTokenCount":\#(text.count)}"#)
        }
        defer { server.shutdown() }
        let texts = (1...20).map { String(repeating: "x", count: $0) }
        let result = try await Self.embedder(server).embed(texts, model: "amazon.titan-embed-text-v2:0")
        #expect(result.vectors.map { Int($0[0]) } == Array(1...20))
        #expect(result.usage.inputTokens == (1...20).reduce(0, +))
        let first = try #require(server.requests.first)
        #expect(first.uri == "/model/amazon.titan-embed-text-v2%3A0/invoke")
        #expect(first.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true)
        #expect(try JSONValue(parsingBytes: first.body)["dimensions"] == 256)
    }

    @Test func cohereBatch() async throws {
        let server = try await WireTestServer.start { _ in
            .json(#"{"embeddings":[[0.1,0.2],[0.3,0.4]],"id":"e1","response_type":"embeddings_floats","texts":["a","b"]}"#)
        }
        defer { server.shutdown() }
        let result = try await Self.embedder(server).embed(["a", "b"], model: "cohere.embed-english-v3")
        #expect(result.vectors == [[0.1, 0.2], [0.3, 0.4]])
        #expect(server.requests.count == 1)
        #expect(try JSONValue(parsingBytes: server.requests[0].body) == ["texts": ["a", "b"], "input_type": "search_document"])
    }
}
