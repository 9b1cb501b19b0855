//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import NIOHTTP1

/// What every HTTP provider adapter is configured with, besides its own credentials.
public struct ProviderSettings: Sendable {
    /// The API's base URL, such as `https://api.openai.com/v1`.
    public var baseURL: String
    /// The name used in errors, logs and metrics (`openai`, `groq`, `vllm`…).
    public var providerName: String
    /// Extra headers sent with every request.
    public var headers: [(name: String, value: String)]
    /// Deadlines.
    public var timeouts: ProviderTimeouts
    /// Told what each response's headers said about rate limits (for an adaptive limiter).
    public var rateLimitObserver: (@Sendable (RateLimitState) -> Void)?
    /// What the model supports natively.
    public var capabilities: ModelCapabilities

    public init(
        baseURL: String,
        providerName: String,
        headers: [(name: String, value: String)] = [],
        timeouts: ProviderTimeouts = .default,
        rateLimitObserver: (@Sendable (RateLimitState) -> Void)? = nil,
        capabilities: ModelCapabilities = ModelCapabilities(structuredOutput: true, toolCalling: true)
    ) {
        self.baseURL = baseURL
        self.providerName = providerName
        self.headers = headers
        self.timeouts = timeouts
        self.rateLimitObserver = rateLimitObserver
        self.capabilities = capabilities
    }

    /// The common headers plus `extra`.
    func httpHeaders(_ extra: [(String, String)]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "user-agent", value: "harness/0.1")
        for (name, value) in extra { headers.replaceOrAdd(name: name, value: value) }
        for (name, value) in self.headers { headers.replaceOrAdd(name: name, value: value) }
        return headers
    }

    func observe(_ response: ProviderHTTPResponse) {
        if let rateLimitObserver, !response.rateLimits.isEmpty { rateLimitObserver(response.rateLimits) }
    }
}

/// A configuration value that is missing or unusable, named with where it should come from.
public struct ProviderConfigurationError: Error, Sendable, CustomStringConvertible {
    public var provider: String
    public var message: String

    public init(provider: String, _ message: String) {
        self.provider = provider
        self.message = message
    }

    public var description: String { "\(provider): \(message)" }
}
