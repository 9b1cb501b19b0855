//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Harness
public import HarnessCore

/// A model provider refused or failed a request.
///
/// Every HTTP status and provider error body maps to one ``Code``; the provider's own
/// message and request id are kept for support tickets. Credentials never appear in it:
/// messages are taken from the provider's error body, which never echoes keys back, and
/// are scrubbed of anything that looks like one all the same.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, independent of the provider.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Too many requests or tokens (HTTP 429 and the like).
        public static let rateLimited = Code("rate_limited")
        /// The provider is overloaded (Anthropic 529, Bedrock ServiceUnavailable, Gemini 503).
        public static let overloaded = Code("overloaded")
        /// The provider failed (HTTP 5xx).
        public static let server = Code("server")
        /// A deadline passed: connect, first byte, idle between chunks or total.
        public static let timeout = Code("timeout")
        /// The credentials were missing or refused (HTTP 401).
        public static let authentication = Code("authentication")
        /// The credentials may not do this (HTTP 403).
        public static let permission = Code("permission")
        /// The request was malformed or not acceptable (HTTP 400, 422).
        public static let invalidRequest = Code("invalid_request")
        /// The prompt does not fit the model's context window.
        public static let contextLengthExceeded = Code("context_length_exceeded")
        /// The provider's content filter refused the prompt or the answer.
        public static let contentFiltered = Code("content_filtered")
        /// The model or endpoint does not exist (HTTP 404).
        public static let notFound = Code("not_found")
        /// The connection failed or broke before the answer was complete.
        public static let connection = Code("connection")
        /// The provider's answer could not be understood (malformed JSON, a stream cut short).
        public static let invalidResponse = Code("invalid_response")
    }

    /// What went wrong.
    public var code: Code
    /// The provider that answered, such as `openai`.
    public var provider: String
    /// The HTTP status, if a response arrived.
    public var status: Int?
    /// The provider's message, or ours when the provider gave none.
    public var message: String
    /// The provider's error type or code as it named it (`rate_limit_error`, `ThrottlingException`…).
    public var providerCode: String?
    /// The provider's request id.
    public var requestID: String?
    /// How long the provider asked us to wait before retrying.
    public var retryAfter: Duration?

    public init(
        _ code: Code,
        provider: String,
        status: Int? = nil,
        message: String,
        providerCode: String? = nil,
        requestID: String? = nil,
        retryAfter: Duration? = nil
    ) {
        self.code = code
        self.provider = provider
        self.status = status
        self.message = Redaction.scrub(message)
        self.providerCode = providerCode
        self.requestID = requestID
        self.retryAfter = retryAfter
    }

    /// Whether the same request may succeed if sent again later.
    public var isRetryable: Bool {
        switch code {
        case .rateLimited, .overloaded, .server, .timeout, .connection: true
        default: status == 408 || status == 409
        }
    }

    public var description: String {
        var text = "\(provider) \(code)"
        if let status { text += " (HTTP \(status))" }
        text += ": \(message)"
        if let requestID { text += " [request \(requestID)]" }
        if let retryAfter { text += " retry after \(retryAfter)" }
        return text
    }

    /// The same failure as a ``HarnessError``, for code that handles only those.
    public var harnessError: HarnessError {
        var error = HarnessError(
            code == .rateLimited ? .rateLimited : code == .timeout ? .timeout : .modelError,
            description
        )
        error.retryAfter = retryAfter
        return error
    }
}

extension ProviderError: ErrorTypeReporting {
    /// The code (`rate_limited`, `timeout`, …), for `error.type` and `error_type`.
    public var errorType: String { code.description }
}
