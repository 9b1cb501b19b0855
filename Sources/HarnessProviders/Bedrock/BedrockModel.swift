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
import NIOHTTP1

/// A model on AWS Bedrock, through the Converse API (`converse` and `converse-stream`),
/// requests signed with Signature Version 4.
///
/// The model id of each request is a Bedrock model id, inference profile id or ARN
/// (`anthropic.claude-3-5-sonnet-20240620-v1:0`, `us.meta.llama3-2-1b-instruct-v1:0`,
/// `arn:aws:bedrock:…:inference-profile/…`); it is percent-encoded into the path.
///
/// ```swift
/// let model = try BedrockModel(environment: ProcessInfo.processInfo.environment)
/// let answer = try await model.complete(ModelRequest(model: "amazon.nova-lite-v1:0", messages: [.user("Hi")]))
/// ```
public struct BedrockModel: LanguageModel, CustomStringConvertible, CustomReflectable {
    public var settings: ProviderSettings
    public var credentials: AWSCredentials
    public var region: String
    /// The SigV4 service name.
    public var signingService = "bedrock"
    let client: ProviderHTTPClient

    /// The Bedrock runtime endpoint of `region`.
    public static func endpoint(region: String) -> String { "https://bedrock-runtime.\(region).amazonaws.com" }

    /// A model in `region` with `credentials`. `settings.baseURL` defaults to the region's
    /// endpoint; set it for a VPC endpoint, a proxy, or a local emulator.
    public init(
        credentials: AWSCredentials,
        region: String,
        settings: ProviderSettings? = nil,
        client: ProviderHTTPClient = .shared
    ) {
        self.credentials = credentials
        self.region = region
        self.settings = settings ?? ProviderSettings(
            baseURL: Self.endpoint(region: region),
            providerName: "bedrock",
            capabilities: ModelCapabilities(structuredOutput: false, toolCalling: true)
        )
        self.client = client
    }

    /// The model the AWS environment describes: credentials and region as
    /// ``AWSConfiguration`` finds them, and the endpoint from `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`
    /// or `AWS_ENDPOINT_URL` when set (as the AWS SDKs read them).
    /// - Throws: ``ProviderConfigurationError`` naming what is missing.
    public init(environment: [String: String], client: ProviderHTTPClient = .shared) throws {
        let region = try AWSConfiguration.region(environment: environment)
        let credentials = try AWSConfiguration.credentials(environment: environment)
        let endpoint = [environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"], environment["AWS_ENDPOINT_URL"]]
            .compactMap { $0 }.first { !$0.isEmpty }
        self.init(
            credentials: credentials,
            region: region,
            settings: ProviderSettings(
                baseURL: endpoint ?? Self.endpoint(region: region),
                providerName: "bedrock",
                capabilities: ModelCapabilities(structuredOutput: false, toolCalling: true)
            ),
            client: client
        )
    }

    /// Names the endpoint, region and access key id; never the secret.
    public var description: String {
        "BedrockModel(\(settings.baseURL), region: \(region), credentials: \(credentials))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["baseURL": settings.baseURL, "region": region, "credentials": credentials], displayStyle: .struct)
    }

    public var providerName: String { settings.providerName }
    public var capabilities: ModelCapabilities { settings.capabilities }

    /// The signed HTTP request for `request`.
    func httpRequest(_ request: ModelRequest, stream: Bool) throws -> ProviderHTTPRequest {
        guard !request.model.isEmpty else {
            throw ProviderError(.invalidRequest, provider: providerName, message: "the request names no model id")
        }
        let body = try BedrockWire.body(for: request, provider: providerName).canonicalBytes
        return try signedRequest(
            model: request.model,
            action: stream ? "converse-stream" : "converse",
            body: body,
            accept: stream ? "application/vnd.amazon.eventstream" : "application/json"
        )
    }

    /// A signed POST of `body` to `/model/{model}/{action}` (`converse`, `invoke`…).
    func signedRequest(model: String, action: String, body: [UInt8], accept: String) throws -> ProviderHTTPRequest {
        let provider = providerName
        guard let url = URLComponents(string: settings.baseURL), let host = url.host, !host.isEmpty,
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else {
            throw ProviderConfigurationError(provider: provider, "the base URL '\(settings.baseURL)' is not an http(s) URL with a host")
        }
        var basePath = url.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        let path = basePath + "/model/" + SigV4Signer.encode(model) + "/" + action
        var hostHeader = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host  // an IPv6 literal
        if let port = url.port, port != (scheme == "https" ? 443 : 80) { hostHeader += ":\(port)" }

        var headers = settings.httpHeaders([("content-type", "application/json"), ("accept", accept)])
        headers.replaceOrAdd(name: "host", value: hostHeader)
        var signed = SigV4Signer.Request(
            method: "POST",
            path: path,
            headers: headers.filter { !Self.unsignedHeaders.contains($0.name.lowercased()) }.map { ($0.name, $0.value) },
            body: body
        )
        SigV4Signer(credentials: credentials, region: region, service: signingService).sign(&signed, date: Date())
        for (name, value) in signed.headers where Self.signatureHeaders.contains(name.lowercased()) {
            headers.replaceOrAdd(name: name, value: value)
        }

        var secrets = [credentials.secretAccessKey]
        if let token = credentials.sessionToken { secrets.append(token) }
        return ProviderHTTPRequest(
            url: "\(scheme)://\(hostHeader)\(path)",
            headers: headers,
            body: body,
            secrets: secrets
        )
    }

    /// Headers a proxy or the HTTP client may add or change, left unsigned (botocore's list,
    /// plus the hop-by-hop ones).
    static let unsignedHeaders: Set<String> = ["user-agent", "expect", "transfer-encoding", "x-amzn-trace-id", "content-length", "connection"]

    static let signatureHeaders: Set<String> = ["x-amz-date", "x-amz-security-token", "authorization"]

    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        let provider = providerName
        let (head, body) = try await client.send(try httpRequest(request, stream: false), provider: provider, timeouts: settings.timeouts)
        settings.observe(head)
        let json = try WireJSON.parse(bytes: body, provider: provider, requestID: head.requestID, what: "the response")
        return try BedrockWire.response(json, model: request.model, provider: provider, requestID: head.requestID)
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
            return BedrockStreamMapper(provider: provider, requestID: head.requestID, contentType: head.headers.first(name: "content-type"))
        }
    }
}
