//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A language model: anything that answers a ModelRequest.
///
/// ## Implementation requirements
/// - `stream(_:)` delivers events in the order ModelStreamEvent documents and ends with
///   `finish`; a broken stream throws after the events already delivered.
/// - Cancelling the consuming task cancels the underlying request (closes the connection).
/// - Errors never contain credentials.
/// - `complete(_:)` has a default that collects `stream(_:)`; adapters with a cheaper
///   non-streaming path override it.
public protocol LanguageModel: Sendable {
    /// A short name of the provider, such as `openai` or `scripted` (for logs and metrics).
    var providerName: String { get }

    /// What the model supports natively.
    var capabilities: ModelCapabilities { get }

    /// Answers `request` in one piece.
    func complete(_ request: ModelRequest) async throws -> ModelResponse

    /// Answers `request` as a stream of events.
    func stream(_ request: ModelRequest) -> ModelEventStream
}

/// What a model supports natively; the orchestrator makes up for what it lacks.
public struct ModelCapabilities: Sendable, Hashable {
    /// Answers constrained to a JSON Schema (`response_format` json_schema and the like).
    /// Without it, the schema is given in the instructions and the answer checked afterwards.
    public var structuredOutput: Bool
    /// Tool calls as structured fields. Without it, calls are read from the text.
    public var toolCalling: Bool
    /// The context window in tokens, if known.
    public var contextWindow: Int?

    public init(structuredOutput: Bool = false, toolCalling: Bool = true, contextWindow: Int? = nil) {
        self.structuredOutput = structuredOutput
        self.toolCalling = toolCalling
        self.contextWindow = contextWindow
    }
}

extension LanguageModel {
    public var providerName: String { String(describing: Self.self) }

    public var capabilities: ModelCapabilities { ModelCapabilities() }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        var accumulator = ModelStreamAccumulator()
        for try await event in stream(request) {
            accumulator.add(event)
        }
        if let id = accumulator.incompleteToolCallIDs.first {
            throw HarnessError(.modelError, "the model's stream ended before tool call '\(id)' was complete")
        }
        guard accumulator.finishReason != nil else {
            throw HarnessError(.modelError, "the model's stream ended without a finish event")
        }
        return accumulator.response
    }
}
