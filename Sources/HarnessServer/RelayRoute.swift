//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import HarnessConfig
import HarnessCore
import HarnessProviders
import NIOHTTP1

/// Where ``GatewayRelay`` sends a model's requests: the model's one route, an
/// OpenAI-compatible server reached over plain HTTP/1.1.
struct RelayRoute: Sendable {
    var host: String
    var port: Int
    /// The request target: the base URL's path and `/chat/completions`.
    var path: String
    /// Host, content type and the route's own headers, its key included.
    var headers: HTTPHeaders {
        didSet {
            requestHead = Self.requestHead(path: path, headers: headers)
            var streamHeaders = headers
            streamHeaders.replaceOrAdd(name: "accept", value: "text/event-stream")
            streamRequestHead = Self.requestHead(path: path, headers: streamHeaders)
        }
    }
    /// The request's bytes up to the `Content-Length` value: request line, `headers`, and
    /// `content-length: `.
    private(set) var requestHead: [UInt8] = []
    /// The same for a streamed request (which accepts `text/event-stream`).
    private(set) var streamRequestHead: [UInt8] = []
    /// What the upstream calls the model (the client's `model` is replaced with it).
    var upstreamModel: String
    var model: GatewayModel
    /// The route's name, as health checks and breakers know it.
    var routeName: String
    var timeouts: ProviderTimeouts
    var breaker: CircuitBreaker?

    /// The models of `configuration` a relay can serve: one route, `provider: openai`, a base
    /// URL the provider client would reach directly (plain HTTP, no proxy), no observer of its
    /// rate-limit headers. Other models, and
    /// all of them when `server.relay` is off, are served by the full path only.
    static func routes(
        _ configuration: HarnessConfiguration, models: [String: GatewayModel], client: ProviderHTTPClient
    ) -> [String: RelayRoute] {
        guard configuration.server.relay else { return [:] }
        var out: [String: RelayRoute] = [:]
        for settings in configuration.models where settings.routes.count == 1 && settings.routes[0].provider == "openai" {
            guard let model = models[settings.name], let route = model.routes.first,
                let provider = route.base as? OpenAIChatModel,
                // An observer of the upstream's rate-limit headers sees only the full path's calls.
                provider.settings.rateLimitObserver == nil
            else { continue }
            let template = provider.requestTemplate(stream: false)
            guard client.connectsDirectly(to: template.url), let url = URLComponents(string: template.url), let host = url.host else {
                continue
            }
            let port = url.port ?? 80
            var headers = template.headers
            if !headers.contains(name: "host") {
                let bracketed = host.contains(":") ? "[\(host)]" : host
                headers.add(name: "host", value: port == 80 ? bracketed : "\(bracketed):\(port)")
            }
            guard Self.validHeaders(headers) else { continue }
            var path = url.percentEncodedPath
            if let query = url.percentEncodedQuery { path += "?" + query }
            var relayRoute = RelayRoute(
                host: host, port: port, path: path.isEmpty ? "/" : path, headers: [:],
                upstreamModel: route.upstreamModel, model: model, routeName: route.name,
                timeouts: provider.settings.timeouts, breaker: (model.model as? Router)?.breaker(for: route.name)
            )
            relayRoute.headers = headers
            out[settings.name] = relayRoute
        }
        return out
    }

    static func requestHead(path: String, headers: HTTPHeaders) -> [UInt8] {
        var text = "POST \(path) HTTP/1.1\r\n"
        for (name, value) in headers {
            text += name + ": " + value + "\r\n"
        }
        return Array((text + "content-length: ").utf8)
    }

    /// Whether `headers` may go on the wire as they are: names are tokens, values hold no
    /// control characters but tab (RFC 9110 §5.1, §5.5). The relay's upstream connections
    /// skip the per-request check; a route whose headers fail it is left to the full path.
    static func validHeaders(_ headers: HTTPHeaders) -> Bool {
        let tokenPunctuation = Set("!#$%&'*+-.^_`|~".utf8)
        for (name, value) in headers {
            guard !name.isEmpty else { return false }
            for b in name.utf8 {
                let alphanumeric = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                guard alphanumeric || tokenPunctuation.contains(b) else { return false }
            }
            for b in value.utf8 where (b < 0x20 && b != 0x09) || b == 0x7F {
                return false
            }
        }
        return true
    }
}
