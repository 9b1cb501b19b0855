//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Foundation
public import HarnessCore
public import NIOHTTP1

extension ProviderError {
    /// The error for a non-2xx response, read from its status, headers and body.
    ///
    /// Bodies of every provider's shape are understood: OpenAI `{"error": {"message", "type",
    /// "code"}}`, Anthropic `{"type": "error", "error": {"type", "message"}}`, Gemini
    /// `{"error": {"code", "message", "status", "details"}}` (its google.rpc `ErrorInfo`
    /// reason and `RetryInfo` delay are read too), Bedrock `{"message"}` with the
    /// `x-amzn-ErrorType` header, Ollama `{"error": "…"}`; anything else keeps its first
    /// 300 characters as the message.
    public static func http(
        status: Int,
        headers: HTTPHeaders,
        body: [UInt8],
        provider: String,
        requestID: String?,
        now: Date = Date()
    ) -> ProviderError {
        var message: String?
        var providerCode: String?
        var providerType: String?
        var google = GoogleRPCDetails()
        if let json = try? JSONValue(parsingBytes: body) {
            let error = json["error"]
            if let text = error?.stringValue {  // Ollama, some OpenAI-compatible servers
                message = text
            } else if let error {
                message = error["message"]?.stringValue
                providerType = error["type"]?.stringValue ?? error["status"]?.stringValue
                providerCode = error["code"]?.stringValue
                google = GoogleRPCDetails(error)
            }
            if message == nil { message = json["message"]?.stringValue ?? json["Message"]?.stringValue }
            if providerType == nil { providerType = json["__type"]?.stringValue ?? json["type"]?.stringValue }
        }
        if let amzn = headers.first(name: "x-amzn-ErrorType") {
            providerType = String(amzn.split(separator: ":").first ?? Substring(amzn))
        }
        let text = message ?? {
            let raw = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return raw.isEmpty ? "HTTP \(status) with no body" : raw
        }()
        let code = google.code ?? classify(status: status, type: providerType, code: providerCode, message: text)
        var retryAfter = RateLimitState.retryAfter(headers, now: now) ?? google.retryDelay
        if retryAfter == nil, code == .rateLimited {
            // OpenAI sends no retry-after on some 429s; its reset headers say when.
            retryAfter = RateLimitState(headers: headers, now: now).suggestedDelay(now: now)
        }
        return ProviderError(
            code,
            provider: provider,
            status: status,
            message: text,
            providerCode: google.reason ?? providerCode ?? providerType,
            requestID: requestID,
            retryAfter: retryAfter
        )
    }

    /// An error reported inside a stream (OpenAI `{"error": …}` chunk, Anthropic `event: error`,
    /// Bedrock exception event), classified like an HTTP error of no particular status.
    public static func inStream(_ json: JSONValue, provider: String, requestID: String?) -> ProviderError {
        let error = json["error"] ?? json
        let message = error["message"]?.stringValue ?? error.stringValue ?? "the provider reported an error mid-stream"
        let type = error["type"]?.stringValue ?? error["status"]?.stringValue
        let code = error["code"]?.stringValue
        let status = error["code"]?.intValue
        let google = GoogleRPCDetails(error)
        return ProviderError(
            google.code ?? classify(status: status ?? 0, type: type, code: code, message: message),
            provider: provider,
            status: nil,
            message: message,
            providerCode: google.reason ?? code ?? type,
            requestID: requestID,
            retryAfter: google.retryDelay
        )
    }

    /// What the `details` of a Google API error (`google.rpc.Status`) add: the `ErrorInfo`
    /// reason (`API_KEY_INVALID` is an authentication failure, though sent as HTTP 400
    /// INVALID_ARGUMENT) and the `RetryInfo` delay (`"37s"`), which Gemini sends on 429s
    /// instead of a Retry-After header.
    struct GoogleRPCDetails {
        var reason: String?
        var retryDelay: Duration?

        init() {}

        init(_ error: JSONValue) {
            for detail in error["details"]?.arrayValue ?? [] {
                let type = detail["@type"]?.stringValue ?? ""
                if type.hasSuffix("google.rpc.ErrorInfo"), reason == nil {
                    reason = detail["reason"]?.stringValue
                } else if type.hasSuffix("google.rpc.RetryInfo"), retryDelay == nil {
                    // A protobuf Duration in JSON: decimal seconds with an "s" suffix.
                    if let text = detail["retryDelay"]?.stringValue, let seconds = RateLimitState.goDuration(text) {
                        retryDelay = .milliseconds(Int64((seconds * 1000).rounded(.up)))
                    }
                }
            }
        }

        /// The code the reason decides, when it decides one.
        var code: Code? {
            switch reason {
            case "API_KEY_INVALID", "API_KEY_EXPIRED", "ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_INVALID": .authentication
            default: nil
            }
        }
    }

    static func classify(status: Int, type: String?, code: String?, message: String) -> Code {
        let lowered = message.lowercased()
        let type = type?.lowercased() ?? ""
        let code = code?.lowercased() ?? ""
        if code == "context_length_exceeded" || code == "string_above_max_length"
            || lowered.contains("context length") || lowered.contains("context window")
            || lowered.contains("prompt is too long") || lowered.contains("input is too long")
            || lowered.contains("too many input tokens") || lowered.contains("maximum context")
            || lowered.contains("exceeds the maximum number of tokens")
        {
            return .contextLengthExceeded
        }
        if code == "content_filter" || code == "content_policy_violation" || type.contains("content_filter")
            || type == "safety"
        {
            return .contentFiltered
        }
        switch type {
        case "rate_limit_error", "throttlingexception", "resource_exhausted", "rate_limit_exceeded", "tokens", "requests":
            return .rateLimited
        case "overloaded_error", "serviceunavailableexception", "unavailable", "modelnotreadyexception":
            return .overloaded
        case "authentication_error", "unauthenticated", "unrecognizedclientexception", "invalid_api_key":
            return .authentication
        case "permission_error", "permission_denied", "accessdeniedexception":
            return .permission
        case "not_found_error", "not_found", "resourcenotfoundexception":
            return .notFound
        case "request_too_large":
            return .invalidRequest
        case "modeltimeoutexception", "deadline_exceeded":
            return .timeout
        case "api_error", "internal", "internalserverexception", "modelerrorexception":
            return .server
        default:
            break
        }
        switch status {
        case 429: return .rateLimited
        case 529, 503: return .overloaded
        case 401: return .authentication
        case 403: return .permission
        case 404: return .notFound
        case 408, 504: return .timeout
        case 400, 409, 413, 422: return .invalidRequest
        case 500...599: return .server
        default: return status == 0 ? .server : .invalidRequest
        }
    }
}
