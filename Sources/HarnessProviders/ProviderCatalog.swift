//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// The built-in providers by name, each configured from the environment variables its
/// vendor's own SDK reads.
public enum ProviderCatalog {
    /// One provider the catalog can build.
    public struct Entry: Sendable {
        /// The name used on the command line and in configuration.
        public var name: String
        /// The model used when none is named.
        public var defaultModel: String
        /// The environment variables it reads, for help and error messages.
        public var environment: String
    }

    public static let entries: [Entry] = [
        Entry(name: "openai", defaultModel: "gpt-4o-mini", environment: "OPENAI_API_KEY, OPENAI_BASE_URL (any OpenAI-compatible server), OPENAI_ORG_ID, OPENAI_PROJECT_ID"),
        Entry(name: "openai-responses", defaultModel: "gpt-4o-mini", environment: "OPENAI_API_KEY, OPENAI_BASE_URL"),
        Entry(name: "anthropic", defaultModel: "claude-haiku-4-5", environment: "ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL"),
        Entry(name: "gemini", defaultModel: "gemini-2.5-flash", environment: "GEMINI_API_KEY (or GOOGLE_API_KEY), GEMINI_BASE_URL"),
        Entry(name: "bedrock", defaultModel: "us.anthropic.claude-3-5-haiku-20241022-v1:0", environment: "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or ~/.aws/credentials (AWS_PROFILE), AWS_REGION"),
        Entry(name: "ollama", defaultModel: "llama3.2", environment: "OLLAMA_HOST (default http://127.0.0.1:11434)"),
    ]

    /// The names, in order.
    public static var names: [String] { entries.map(\.name) }

    /// The entry called `name`.
    public static func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The model of provider `name`, configured from `environment`.
    ///
    /// - Throws: ``ProviderConfigurationError`` naming what is missing, or naming the known
    ///   providers when `name` is not one.
    public static func model(_ name: String, environment: [String: String], client: ProviderHTTPClient = .shared) throws -> any LanguageModel {
        switch name {
        case "openai": return try OpenAIChatModel(environment: environment, client: client)
        case "openai-responses": return try OpenAIResponsesModel(environment: environment, client: client)
        case "anthropic": return try AnthropicModel(environment: environment, client: client)
        case "gemini": return try GeminiModel(environment: environment, client: client)
        case "bedrock": return try BedrockModel(environment: environment, client: client)
        case "ollama": return OllamaModel(environment: environment, client: client)
        default:
            throw ProviderConfigurationError(provider: name, "unknown provider; choose one of \(names.joined(separator: ", "))")
        }
    }
}
