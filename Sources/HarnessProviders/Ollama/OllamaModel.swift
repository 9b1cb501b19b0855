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

/// A model served by Ollama, through its native API (`POST /api/chat`).
///
/// ```swift
/// let model = OllamaModel(environment: ProcessInfo.processInfo.environment)
/// let answer = try await model.complete(ModelRequest(model: "llama3.2", messages: [.user("Hi")]))
/// ```
///
/// No key is needed by Ollama itself; one set (``apiKey``, `OLLAMA_API_KEY`) is sent as
/// `Authorization: Bearer …`, for an Ollama behind an authenticating proxy.
public struct OllamaModel: LanguageModel {
    /// `http://127.0.0.1:11434`.
    public static let defaultHost = "http://127.0.0.1:11434"

    /// `baseURL` is the host (``normalizedHost(_:)`` form); the API is under `/api`.
    public var settings: ProviderSettings
    public var apiKey: String?
    /// The `think` field, for models that reason; nil leaves it to the model.
    public var think: OllamaWire.Thinking?
    /// The `keep_alive` field (`5m`, `1h`, `-1`…); nil leaves Ollama's default.
    public var keepAlive: String?
    private let client: ProviderHTTPClient

    public init(
        settings: ProviderSettings = ProviderSettings(baseURL: OllamaModel.defaultHost, providerName: "ollama"),
        apiKey: String? = nil,
        think: OllamaWire.Thinking? = nil,
        keepAlive: String? = nil,
        client: ProviderHTTPClient = .shared
    ) {
        self.settings = settings
        self.apiKey = apiKey
        self.think = think
        self.keepAlive = keepAlive
        self.client = client
    }

    /// A model at `host`, written as `OLLAMA_HOST` takes it (`localhost`, `0.0.0.0:11434`,
    /// `https://ollama.example.com`…).
    public init(host: String, apiKey: String? = nil, client: ProviderHTTPClient = .shared) {
        self.init(
            settings: ProviderSettings(baseURL: Self.normalizedHost(host), providerName: "ollama"),
            apiKey: apiKey,
            client: client
        )
    }

    /// The model the environment describes: the host from `OLLAMA_HOST` (default
    /// `127.0.0.1:11434`), a bearer key from `OLLAMA_API_KEY` if set.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) {
        let key = environment["OLLAMA_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(host: environment["OLLAMA_HOST"] ?? "", apiKey: key, client: client)
    }

    /// The URL for an `OLLAMA_HOST` value, read as Ollama's own client reads it: no scheme
    /// means `http` and port 11434 when none is given (`http://` alone means port 80,
    /// `https://` 443, as in Ollama); a path is kept (an Ollama behind a proxy prefix); an
    /// empty value is the default. A listening address is turned into one to connect to:
    /// `0.0.0.0`, `::` or no host at all mean this machine (`127.0.0.1`, `[::1]`).
    ///
    /// `0.0.0.0` → `http://127.0.0.1:11434`; `localhost` → `http://localhost:11434`;
    /// `https://ollama.example.com/x/` → `https://ollama.example.com:443/x`.
    public static func normalizedHost(_ value: String) -> String {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        var scheme = "http"
        var defaultPort = "11434"
        var rest = Substring(text)
        if let range = text.range(of: "://") {
            scheme = text[..<range.lowerBound].lowercased()
            rest = text[range.upperBound...]
            switch scheme {
            case "http": defaultPort = "80"
            case "https": defaultPort = "443"
            default: break
            }
        } else if text == "ollama.com" {
            scheme = "https"
            defaultPort = "443"
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        while path.hasSuffix("/") { path.removeLast() }

        var host: Substring
        var port: Substring?
        if rest.hasPrefix("[") {  // [v6] or [v6]:port
            let close = rest.firstIndex(of: "]") ?? rest.endIndex
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = close < rest.endIndex ? rest[rest.index(after: close)...] : ""
            if after.hasPrefix(":") { port = after.dropFirst() }
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            port = rest[rest.index(after: colon)...]
        } else {
            host = rest  // a name, an IPv4 address or a bare IPv6 address
        }
        var portText = String(port ?? "")
        if portText.isEmpty || Int(portText).map({ !(0...65535).contains($0) }) ?? true { portText = defaultPort }

        var hostText = String(host)
        switch hostText {
        case "", "0.0.0.0": hostText = "127.0.0.1"
        case "::", "0:0:0:0:0:0:0:0": hostText = "::1"
        default: break
        }
        if hostText.contains(":") { hostText = "[" + hostText + "]" }
        return scheme + "://" + hostText + ":" + portText + path
    }

    public var providerName: String { settings.providerName }
    public var capabilities: ModelCapabilities { settings.capabilities }

    func httpRequest(_ request: ModelRequest, stream: Bool) throws -> ProviderHTTPRequest {
        var extra: [(String, String)] = [("content-type", "application/json")]
        if stream { extra.append(("accept", "application/x-ndjson")) }
        if let apiKey { extra.append(("authorization", "Bearer \(apiKey)")) }
        let body = try OllamaWire.body(for: request, stream: stream, provider: providerName, think: think, keepAlive: keepAlive)
        return ProviderHTTPRequest(
            url: WireJSON.join(settings.baseURL, "/api/chat"),
            headers: settings.httpHeaders(extra),
            body: body.canonicalBytes,
            secrets: apiKey.map { [$0] } ?? []
        )
    }

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        let provider = providerName
        let (head, body) = try await client.send(try httpRequest(request, stream: false), provider: provider, timeouts: settings.timeouts)
        settings.observe(head)
        let json = try WireJSON.parse(bytes: body, provider: provider, requestID: head.requestID, what: "the response")
        return try OllamaWire.response(json, provider: provider, requestID: head.requestID)
    }

    public func stream(_ request: ModelRequest) -> ModelEventStream {
        let provider = providerName
        let settings = self.settings
        let http: ProviderHTTPRequest
        do {
            http = try httpRequest(request, stream: true)
        } catch {
            return ModelEventStream(events: [], error: error)
        }
        return client.eventStream(http, provider: provider, timeouts: settings.timeouts) { head in
            settings.observe(head)
            return OllamaStreamMapper(provider: provider, requestID: head.requestID)
        }
    }
}
