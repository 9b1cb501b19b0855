//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Turns texts into vectors: OpenAI(-compatible), Gemini, Bedrock and Ollama adapters
/// implement it.
///
/// ## Implementation requirements
/// - `embed` returns one vector per input text, in the order given, whatever order the
///   provider answers in.
/// - Errors never contain credentials; cancellation cancels the request.
public protocol Embedder: Sendable {
    /// A short name of the provider, such as `openai` (for logs and metrics).
    var providerName: String { get }

    /// The vectors of `texts`, computed by `model`.
    func embed(_ texts: [String], model: String) async throws -> Embeddings
}

/// The answer of an ``Embedder``.
public struct Embeddings: Sendable, Hashable {
    /// One vector per input text, in input order.
    public var vectors: [[Float]]
    /// Tokens used (input only), when the provider reports them.
    public var usage: Usage
    /// The model that answered, as the provider names it.
    public var model: String?

    public init(vectors: [[Float]], usage: Usage = .zero, model: String? = nil) {
        self.vectors = vectors
        self.usage = usage
        self.model = model
    }
}
