//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
public import HarnessCore
import Synchronization

/// A Gemini model behind the Gemini API of Google AI Studio
/// (`generativelanguage.googleapis.com/v1beta`).
///
/// The key is sent in the `x-goog-api-key` header, never in the URL (where proxies and
/// access logs would keep it).
///
/// ```swift
/// let model = try GeminiModel(environment: ProcessInfo.processInfo.environment)
/// let answer = try await model.complete(ModelRequest(model: "gemini-2.5-flash", messages: [.user("Hi")]))
/// ```
///
/// Tool calls: Gemini returns each call whole, with an `id` in newer versions; a call
/// without one is given `call_0`, `call_1`… in the order of the answer (such made-up ids are
/// not sent back). Thinking models attach a thought signature to their function calls,
/// which Gemini 3 requires back in the history: the model remembers the signatures of the
/// calls it received (the last 4,096, shared by copies of this value) and sends each back
/// with its call; a model turn whose calls have no known signature (a conversation restored
/// from storage, or begun with another model) gets ``placeholderThoughtSignature``.
public struct GeminiModel: LanguageModel {
    /// `https://generativelanguage.googleapis.com/v1beta`.
    public static let defaultBaseURL = "https://generativelanguage.googleapis.com/v1beta"

    public var settings: ProviderSettings
    /// Sent as `x-goog-api-key`; may be nil behind a proxy that adds credentials.
    public var apiKey: String?
    /// Where a `jsonSchema` response format goes.
    public var jsonSchemaField: GeminiWire.JSONSchemaField
    /// The signature sent with function calls whose own is unknown; nil sends none.
    public var placeholderThoughtSignature: String?
    let signatures: GeminiThoughtSignatures
    private let client: ProviderHTTPClient

    public init(
        apiKey: String?,
        settings: ProviderSettings = ProviderSettings(baseURL: GeminiModel.defaultBaseURL, providerName: "gemini"),
        jsonSchemaField: GeminiWire.JSONSchemaField = .responseSchema,
        placeholderThoughtSignature: String? = GeminiWire.placeholderThoughtSignature,
        client: ProviderHTTPClient = .shared
    ) {
        self.apiKey = apiKey
        self.settings = settings
        self.jsonSchemaField = jsonSchemaField
        self.placeholderThoughtSignature = placeholderThoughtSignature
        self.signatures = GeminiThoughtSignatures()
        self.client = client
    }

    /// The model the environment describes: the key from `GEMINI_API_KEY`, or else
    /// `GOOGLE_API_KEY` (one of them is required unless `GEMINI_BASE_URL` names a proxy),
    /// and the base URL from `GEMINI_BASE_URL`.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        }
        let key = value("GEMINI_API_KEY") ?? value("GOOGLE_API_KEY")
        let base = value("GEMINI_BASE_URL")
        guard key != nil || base != nil else {
            let state = { (name: String) in environment[name] == nil ? "is not set" : "is empty" }
            throw ProviderConfigurationError(
                provider: "gemini",
                "no API key: GEMINI_API_KEY \(state("GEMINI_API_KEY")) and GOOGLE_API_KEY \(state("GOOGLE_API_KEY")); set GEMINI_API_KEY to a Google AI Studio key"
            )
        }
        self.init(
            apiKey: key,
            settings: ProviderSettings(baseURL: base ?? Self.defaultBaseURL, providerName: "gemini"),
            client: client
        )
    }

    public var providerName: String { settings.providerName }
    public var capabilities: ModelCapabilities { settings.capabilities }

    /// The URL of `method` (`generateContent`, `streamGenerateContent`) for `model`: a bare
    /// id is a `models/` resource; a name with a slash (`tunedModels/x`) is used as it is.
    func url(model: String, method: String) -> String {
        let resource = model.contains("/") ? model : "models/" + model
        let encoded = resource.addingPercentEncoding(withAllowedCharacters: Self.pathAllowed) ?? resource
        return WireJSON.join(settings.baseURL, "/" + encoded + ":" + method)
    }

    private static let pathAllowed = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/@"
    )

    func httpRequest(_ request: ModelRequest, stream: Bool) -> ProviderHTTPRequest {
        var extra: [(String, String)] = [("content-type", "application/json")]
        if stream { extra.append(("accept", "text/event-stream")) }
        if let apiKey { extra.append(("x-goog-api-key", apiKey)) }
        let signatures = self.signatures
        let body = GeminiWire.body(
            for: request,
            jsonSchemaField: jsonSchemaField,
            signature: { signatures.signature(for: $0) },
            placeholderSignature: placeholderThoughtSignature
        )
        return ProviderHTTPRequest(
            url: url(model: request.model, method: stream ? "streamGenerateContent?alt=sse" : "generateContent"),
            headers: settings.httpHeaders(extra),
            body: body.canonicalBytes,
            secrets: apiKey.map { [$0] } ?? []
        )
    }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        let provider = providerName
        let (head, body) = try await client.send(httpRequest(request, stream: false), provider: provider, timeouts: settings.timeouts)
        settings.observe(head)
        let json = try WireJSON.parse(bytes: body, provider: provider, requestID: head.requestID, what: "the response")
        let signatures = self.signatures
        return try GeminiWire.response(json, provider: provider, requestID: head.requestID) { signatures.record($1, for: $0) }
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        let provider = providerName
        let settings = self.settings
        let signatures = self.signatures
        return client.eventStream(httpRequest(request, stream: true), provider: provider, timeouts: settings.timeouts) { head in
            settings.observe(head)
            return GeminiStreamMapper(provider: provider, requestID: head.requestID) { signatures.record($1, for: $0) }
        }
    }
}

/// The thought signatures of the function calls a model received, by call: id, name and
/// arguments (ids alone repeat: calls without one are numbered from `call_0` in each answer).
final class GeminiThoughtSignatures: Sendable {
    private struct State {
        var byKey: [String: String] = [:]
        var order: [String] = []
    }

    static let capacity = 4096
    private let state = Mutex(State())

    private static func key(_ call: ToolCall) -> String {
        call.id + "\u{0}" + call.name + "\u{0}" + (call.arguments?.canonicalString ?? call.rawArguments)
    }

    func record(_ signature: String, for call: ToolCall) {
        let key = Self.key(call)
        state.withLock { state in
            if state.byKey.updateValue(signature, forKey: key) == nil {
                state.order.append(key)
                if state.order.count > Self.capacity {
                    state.byKey.removeValue(forKey: state.order.removeFirst())
                }
            }
        }
    }

    func signature(for call: ToolCall) -> String? {
        let key = Self.key(call)
        return state.withLock { $0.byKey[key] }
    }
}
