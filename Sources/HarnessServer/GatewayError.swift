//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
import HarnessCore
import HarnessProviders

/// An error the gateway answers with, rendered in the calling client's own format.
///
/// `code` is stable and machine-readable; `param` names the offending field of the request
/// (`messages[2].role`), so a client error says what and where.
public struct GatewayError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, with its HTTP status and its name in each wire format.
    public struct Kind: Sendable, Hashable {
        public var status: Int
        /// OpenAI's `error.type`.
        public var openAIType: String
        /// Anthropic's `error.type`.
        public var anthropicType: String

        public static let invalidRequest = Kind(status: 400, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
        public static let authentication = Kind(status: 401, openAIType: "authentication_error", anthropicType: "authentication_error")
        public static let permission = Kind(status: 403, openAIType: "permission_error", anthropicType: "permission_error")
        public static let notFound = Kind(status: 404, openAIType: "not_found_error", anthropicType: "not_found_error")
        public static let tooLarge = Kind(status: 413, openAIType: "invalid_request_error", anthropicType: "request_too_large")
        public static let rateLimited = Kind(status: 429, openAIType: "rate_limit_error", anthropicType: "rate_limit_error")
        /// A key's budget is spent: 429 so both SDKs raise their rate-limit error, sent with
        /// `x-should-retry: false` so they do not retry.
        public static let budgetExceeded = Kind(status: 429, openAIType: "insufficient_quota", anthropicType: "rate_limit_error")
        public static let server = Kind(status: 500, openAIType: "server_error", anthropicType: "api_error")
        public static let badGateway = Kind(status: 502, openAIType: "server_error", anthropicType: "api_error")
        public static let unavailable = Kind(status: 503, openAIType: "server_error", anthropicType: "overloaded_error")
        public static let overloaded = Kind(status: 529, openAIType: "server_error", anthropicType: "overloaded_error")
        public static let timeout = Kind(status: 504, openAIType: "timeout_error", anthropicType: "api_error")
    }

    public var kind: Kind
    /// A stable code such as `invalid_json`, `missing_field`, `model_not_found`, `invalid_api_key`.
    public var code: String
    public var message: String
    /// The request field at fault, as a path.
    public var param: String?
    /// When the client may try again.
    public var retryAfter: Duration?
    /// Whether the client should retry at all (sent as `x-should-retry`).
    public var shouldRetry: Bool?

    public init(_ kind: Kind, code: String, _ message: String, param: String? = nil, retryAfter: Duration? = nil, shouldRetry: Bool? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.param = param
        self.retryAfter = retryAfter
        self.shouldRetry = shouldRetry
    }

    public var description: String {
        "\(kind.status) \(code): \(message)" + (param.map { " (\($0))" } ?? "")
    }

    static func missing(_ field: String) -> GatewayError {
        GatewayError(.invalidRequest, code: "missing_field", "'\(field)' is required", param: field)
    }

    static func invalid(_ field: String, _ problem: String) -> GatewayError {
        GatewayError(.invalidRequest, code: "invalid_field", "'\(field)' \(problem)", param: field)
    }

    /// The OpenAI body: `{"error": {"message", "type", "param", "code"}}`.
    public var openAIBody: [UInt8] {
        var w = JSONWriter(capacity: 128 + message.utf8.count)
        w.object { w in
            w.key("error")
            w.object { w in
                w.key("message"); w.string(message)
                w.key("type"); w.string(kind.openAIType)
                w.key("param"); w.stringOrNull(param)
                w.key("code"); w.string(code)
            }
        }
        return w.bytes
    }

    /// The Anthropic body: `{"type": "error", "error": {"type", "message"}}`.
    public var anthropicBody: [UInt8] {
        var w = JSONWriter(capacity: 128 + message.utf8.count)
        w.object { w in
            w.key("type"); w.string("error")
            w.key("error")
            w.object { w in
                w.key("type"); w.string(kind.anthropicType)
                w.key("message"); w.string(param.map { "\(message) (\($0))" } ?? message)
            }
        }
        return w.bytes
    }

    /// The client-facing error for a failure while serving: upstream provider errors keep
    /// their meaning for the client (a rate limit stays a 429 with its delay) while problems
    /// of the gateway's own configuration (an upstream key refused) become 502s that never
    /// blame the client's key. Messages carry no secrets (``ProviderError`` is scrubbed).
    public static func from(_ error: any Error) -> GatewayError {
        switch error {
        case let e as GatewayError:
            return e
        case let e as ProviderError:
            let text = "upstream \(e.provider): \(e.message)"
            switch e.code {
            case .rateLimited: return GatewayError(.rateLimited, code: "upstream_rate_limited", text, retryAfter: e.retryAfter)
            case .overloaded: return GatewayError(.overloaded, code: "upstream_overloaded", text, retryAfter: e.retryAfter)
            case .timeout: return GatewayError(.timeout, code: "upstream_timeout", text)
            case .invalidRequest: return GatewayError(.invalidRequest, code: e.providerCode ?? "invalid_request", text)
            case .contextLengthExceeded: return GatewayError(.invalidRequest, code: "context_length_exceeded", text)
            case .contentFiltered: return GatewayError(.invalidRequest, code: "content_filter", text)
            case .authentication, .permission: return GatewayError(.badGateway, code: "upstream_authentication", "the gateway's credentials for \(e.provider) were refused; the operator must fix the route's key")
            case .notFound: return GatewayError(.badGateway, code: "upstream_not_found", text)
            default: return GatewayError(.badGateway, code: "upstream_error", text)
            }
        case let e as HarnessError:
            switch e.code {
            case .rateLimited: return GatewayError(.rateLimited, code: "rate_limited", e.message, retryAfter: e.retryAfter)
            case .timeout: return GatewayError(.timeout, code: "timeout", e.message)
            case .invalidArgument, .parse: return GatewayError(.invalidRequest, code: "invalid_request", e.message)
            case .guardrail: return GatewayError(.invalidRequest, code: "guardrail", e.message)
            case .notFound: return GatewayError(.notFound, code: "not_found", e.message)
            case .cancelled: return GatewayError(.server, code: "cancelled", e.message)
            case .circuitOpen: return GatewayError(.unavailable, code: "circuit_open", e.message, retryAfter: e.retryAfter)
            case .unavailable: return GatewayError(.unavailable, code: "unavailable", e.message, retryAfter: e.retryAfter)
            default:
                return GatewayError(.badGateway, code: e.code.description, e.message)
            }
        default:
            return GatewayError(.server, code: "internal_error", "internal error: \(String(describing: type(of: error)))")
        }
    }
}
