//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import Harness
public import Instrumentation
public import NIOCore
public import NIOHTTP1
import Synchronization

/// One HTTP request to a provider.
public struct ProviderHTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Values that must never appear in an error built from this request's response
    /// (the key it carries): they are scrubbed from provider messages.
    public var secrets: [String]

    public init(method: HTTPMethod = .POST, url: String, headers: HTTPHeaders = [:], body: [UInt8] = [], secrets: [String] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.secrets = secrets
    }
}

/// The head of a provider's response.
public struct ProviderHTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The provider's request id (`x-request-id`, `request-id`, `x-amzn-requestid`…).
    public var requestID: String?
    /// What the headers said about rate limits.
    public var rateLimits: RateLimitState
}

/// The HTTP client provider adapters share: pooled connections (one pool per proxy
/// route), the proxy from the environment, deadlines watched while a response streams, and
/// cancellation that closes the connection. Every request carries the current trace
/// context (`traceparent`/`tracestate` with an OpenTelemetry tracer), injected by the
/// instrument.
///
/// ``shared`` lives for the whole process and needs no shutdown; a client made with
/// ``init(proxy:)`` must be shut down with ``shutdown()`` before it is released.
public final class ProviderHTTPClient: Sendable {
    /// The process-wide client, with the proxy the environment names.
    public static let shared = ProviderHTTPClient(proxy: ProxySettings(environment: ProcessInfo.processInfo.environment))

    /// The largest error or non-streamed body read, in bytes.
    public static let maxBodyBytes = 64 << 20

    private struct RouteKey: Hashable {
        var proxy: ProxySettings.Endpoint?
        var connectMilliseconds: Int64
    }

    private let proxy: ProxySettings
    private let instrument: (any Instrument)?
    private let clients = Mutex<[RouteKey: HTTPClient]>([:])
    /// Plain-HTTP requests without a proxy go through this client (see ``HTTP1UpstreamClient``).
    private let http1 = HTTP1UpstreamClient()
    private let useHTTP1: Bool
    private let targets = Mutex<[String: HTTP1UpstreamClient.Target?]>([:])
    /// The client of each URL already seen, so that a request does not parse its URL again
    /// (the same few endpoint URLs are requested over and over).
    private let clientsByURL = Mutex<[URLKey: HTTPClient]>([:])

    private struct URLKey: Hashable {
        var url: String
        var connectMilliseconds: Int64
    }

    /// A client that sends requests through `proxy`, with trace context injected by
    /// `instrument` (`nil`: the process-wide `InstrumentationSystem.instrument`).
    ///
    /// Plain-HTTP URLs that no proxy covers are served by Harness's own HTTP/1.1 client with
    /// keep-alive connections; HTTPS and proxied URLs by AsyncHTTPClient. Setting the
    /// environment variable `HARNESS_HTTP_CLIENT=asynchttpclient` sends everything through
    /// AsyncHTTPClient.
    public init(proxy: ProxySettings = .none, instrument: (any Instrument)? = nil) {
        self.proxy = proxy
        self.instrument = instrument
        self.useHTTP1 = ProcessInfo.processInfo.environment["HARNESS_HTTP_CLIENT"]?.lowercased() != "asynchttpclient"
    }

    /// Shuts down every connection pool. Not needed for ``shared``.
    public func shutdown() async throws {
        await http1.shutdown()
        clientsByURL.withLock { $0.removeAll() }
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all { try await client.shutdown() }
    }

    private func client(for url: String, connect: Duration) -> HTTPClient {
        let urlKey = URLKey(url: url, connectMilliseconds: connect.milliseconds)
        if let known = clientsByURL.withLock({ $0[urlKey] }) { return known }
        let client = makeClient(for: url, connect: connect)
        clientsByURL.withLock { table in
            if table.count > 4096 { table.removeAll() }  // bounded: URLs with ids in them
            table[urlKey] = client
        }
        return client
    }

    private func makeClient(for url: String, connect: Duration) -> HTTPClient {
        let parsed = URLComponents(string: url)
        let endpoint = proxy.proxy(scheme: parsed?.scheme ?? "https", host: parsed?.host ?? "")
        let key = RouteKey(proxy: endpoint, connectMilliseconds: connect.milliseconds)
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            var configuration = HTTPClient.Configuration(
                timeout: .init(connect: .milliseconds(key.connectMilliseconds)),
                proxy: endpoint.map { endpoint in
                    .server(
                        host: endpoint.host,
                        port: endpoint.port,
                        authorization: endpoint.credentials.map { credentials in
                            let parts = credentials.split(separator: ":", maxSplits: 1)
                            return .basic(username: String(parts.first ?? ""), password: parts.count > 1 ? String(parts[1]) : "")
                        }
                    )
                }
            )
            configuration.connectionPool.idleTimeout = .seconds(60)
            // A gateway sends many requests at once to one host: keep that many connections.
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 128
            configuration.httpVersion = .automatic
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[key] = client
            return client
        }
    }

    /// Sends `request` and hands its 2xx response to `handle`, which reads the body.
    ///
    /// A non-2xx response becomes a ``ProviderError`` read from its body. The deadlines of
    /// `timeouts` are watched until `handle` returns: the first byte, the gap between body
    /// chunks, the total; one that passes cancels the request, closing its connection.
    /// Cancelling the calling task does the same.
    public func execute<Result: Sendable>(
        _ request: ProviderHTTPRequest,
        provider: String,
        timeouts: ProviderTimeouts = .default,
        handle: @escaping @Sendable (ProviderHTTPResponse, ProviderHTTPBody) async throws -> Result
    ) async throws -> Result {
        if let target = fastTarget(for: request.url) {
            do {
                let (head, body) = try await openHTTP1(request, target: target, provider: provider, timeouts: timeouts)
                return try await handle(head, body)
            } catch {
                throw Self.mapped(error, provider: provider, timeouts: timeouts, secrets: request.secrets)
            }
        }
        let client = self.client(for: request.url, connect: timeouts.connect)
        let activity = RequestActivity()
        let start = ContinuousClock.now
        let headers = injectingTraceContext(request.headers)

        do {
            return try await withThrowingTaskGroup(of: ExecuteOutcome<Result>.self) { group in
                group.addTask {
                    var outgoing = HTTPClientRequest(url: request.url)
                    outgoing.method = request.method
                    outgoing.headers = headers
                    if !request.body.isEmpty || request.method == .POST {
                        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
                    }
                    let response = try await client.execute(outgoing, timeout: .milliseconds(timeouts.total.milliseconds))
                    activity.headArrived()
                    let head = ProviderHTTPResponse(
                        status: Int(response.status.code),
                        headers: response.headers,
                        requestID: Self.requestID(response.headers),
                        rateLimits: RateLimitState(headers: response.headers)
                    )
                    let body = ProviderHTTPBody(response.body, activity: activity)
                    try await Self.checkStatus(head, body: body, provider: provider, secrets: request.secrets)
                    return .done(try await handle(head, body))
                }
                group.addTask {
                    try await activity.watch(start: start, timeouts: timeouts, provider: provider)
                    return .watchdogEnded
                }
                defer { group.cancelAll() }
                while let outcome = try await group.next() {
                    if case .done(let result) = outcome { return result }
                }
                throw CancellationError()
            }
        } catch let error as ProviderError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Self.transportError(error, provider: provider, timeouts: timeouts, secrets: request.secrets)
        }
    }

    /// `headers` plus the current trace context (`traceparent`…), injected by the instrument.
    func injectingTraceContext(_ headers: HTTPHeaders) -> HTTPHeaders {
        guard let context = ServiceContext.current else { return headers }
        var injected = headers
        (instrument ?? InstrumentationSystem.instrument).inject(context, into: &injected, using: HTTPHeadersInjector())
        return injected
    }

    /// Sends `request` on the HTTP/1.1 client and returns its 2xx response; the body's
    /// deadlines are watched by the connection itself.
    func openHTTP1(
        _ request: ProviderHTTPRequest,
        target: HTTP1UpstreamClient.Target,
        provider: String,
        timeouts: ProviderTimeouts
    ) async throws -> (ProviderHTTPResponse, ProviderHTTPBody) {
        var outgoing = request
        outgoing.headers = injectingTraceContext(request.headers)
        let (responseHead, stream) = try await http1.execute(outgoing, target: target, provider: provider, timeouts: timeouts)
        let head = ProviderHTTPResponse(
            status: Int(responseHead.status.code),
            headers: responseHead.headers,
            requestID: Self.requestID(responseHead.headers),
            rateLimits: RateLimitState(headers: responseHead.headers)
        )
        let body = ProviderHTTPBody(stream)
        try await Self.checkStatus(head, body: body, provider: provider, secrets: request.secrets)
        return (head, body)
    }

    /// `error` as the caller sees it: a ``ProviderError`` or `CancellationError`.
    static func mapped(_ error: any Error, provider: String, timeouts: ProviderTimeouts, secrets: [String]) -> any Error {
        if error is ProviderError { return error }
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        return transportError(error, provider: provider, timeouts: timeouts, secrets: secrets)
    }

    /// Throws the ``ProviderError`` a non-2xx response's body describes.
    static func checkStatus(_ head: ProviderHTTPResponse, body: ProviderHTTPBody, provider: String, secrets: [String]) async throws {
        guard !(200..<300).contains(head.status) else { return }
        let bytes = try await body.collect(upTo: 1 << 20, provider: provider, requestID: head.requestID)
        var error = ProviderError.http(status: head.status, headers: head.headers, body: bytes, provider: provider, requestID: head.requestID)
        error.message = Redaction.scrub(error.message, removing: secrets)
        throw error
    }

    /// Where `url` goes on the HTTP/1.1 client, or nil when AsyncHTTPClient serves it (HTTPS,
    /// a proxy, or `HARNESS_HTTP_CLIENT=asynchttpclient`).
    func fastTarget(for url: String) -> HTTP1UpstreamClient.Target? {
        guard useHTTP1 else { return nil }
        if let known = targets.withLock({ $0[url] }) { return known }
        var target = HTTP1UpstreamClient.target(url)
        if let found = target, proxy.proxy(scheme: "http", host: found.origin.host) != nil { target = nil }
        targets.withLock { table in
            if table.count > 4096 { table.removeAll() }  // bounded: URLs with ids in them
            table[url] = .some(target)
        }
        return target
    }

    /// Whether this client would send a request to `url` directly over plain HTTP/1.1 (no
    /// TLS, no proxy): the requests a gateway may relay on its own connections.
    public func connectsDirectly(to url: String) -> Bool {
        fastTarget(for: url) != nil
    }

    /// Sends `request` and returns its whole body (for non-streamed calls).
    public func send(
        _ request: ProviderHTTPRequest,
        provider: String,
        timeouts: ProviderTimeouts = .default
    ) async throws -> (ProviderHTTPResponse, [UInt8]) {
        try await execute(request, provider: provider, timeouts: timeouts) { head, body in
            (head, try await body.collect(upTo: Self.maxBodyBytes, provider: provider, requestID: head.requestID))
        }
    }

    static let requestIDHeaders = ["x-request-id", "request-id", "x-amzn-requestid", "x-amz-request-id", "x-goog-request-id", "x-guploader-uploadid"]

    static func requestID(_ headers: HTTPHeaders) -> String? {
        for name in requestIDHeaders {
            if let value = headers.first(name: name), !value.isEmpty { return value }
        }
        return nil
    }

    static func transportError(_ error: any Error, provider: String, timeouts: ProviderTimeouts, secrets: [String]) -> ProviderError {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout, .tlsHandshakeTimeout:
                return ProviderError(.timeout, provider: provider, message: "connecting took longer than \(timeouts.connect)")
            case .deadlineExceeded:
                return ProviderError(.timeout, provider: provider, message: "the request took longer than its total timeout of \(timeouts.total)")
            case .readTimeout:
                return ProviderError(.timeout, provider: provider, message: "no data arrived within the read timeout")
            case .remoteConnectionClosed:
                return ProviderError(.connection, provider: provider, message: "the server closed the connection before the response was complete")
            case .cancelled:
                return ProviderError(.connection, provider: provider, message: "the request was cancelled")
            default:
                break
            }
        }
        let text = Redaction.scrub(String(describing: error), removing: secrets)
        return ProviderError(.connection, provider: provider, message: "the connection failed: \(text)")
    }
}

private enum ExecuteOutcome<Result: Sendable>: Sendable {
    case done(Result)
    case watchdogEnded
}

/// The body of a provider's response, as chunks; reading it keeps the idle deadline away.
public struct ProviderHTTPBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private enum Base: Sendable {
        case asyncHTTPClient(HTTPClientResponse.Body, RequestActivity)
        case http1(HTTP1ResponseBody)
    }

    private let base: Base

    init(_ body: HTTPClientResponse.Body, activity: RequestActivity) {
        self.base = .asyncHTTPClient(body, activity)
    }

    init(_ body: HTTP1ResponseBody) {
        self.base = .http1(body)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        switch base {
        case .asyncHTTPClient(let body, let activity): AsyncIterator(base: .asyncHTTPClient(body.makeAsyncIterator(), activity))
        case .http1(let body): AsyncIterator(base: .http1(body.makeAsyncIterator()))
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate enum Base {
            case asyncHTTPClient(HTTPClientResponse.Body.AsyncIterator, RequestActivity)
            case http1(HTTP1ResponseBody.AsyncIterator)
        }

        fileprivate var base: Base

        public mutating func next() async throws -> ByteBuffer? {
            switch base {
            case .asyncHTTPClient(var iterator, let activity):
                let chunk = try await iterator.next()
                activity.chunkArrived()
                base = .asyncHTTPClient(iterator, activity)
                return chunk
            case .http1(let iterator):
                // The iterator is a reference to the sequence's storage: no write-back needed.
                return try await iterator.next()
            }
        }
    }

    /// The whole body, up to `limit` bytes.
    public func collect(upTo limit: Int, provider: String, requestID: String?) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self {
            guard bytes.count + chunk.readableBytes <= limit else {
                throw ProviderError(
                    .invalidResponse,
                    provider: provider,
                    message: "the response body is larger than \(limit) bytes",
                    requestID: requestID
                )
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }
}

/// When a request last made progress; its watchdog enforces the deadlines.
final class RequestActivity: Sendable {
    private struct State {
        var headArrived = false
        var lastChunk = ContinuousClock.now
    }

    private let state = Mutex(State())

    func headArrived() {
        state.withLock {
            $0.headArrived = true
            $0.lastChunk = .now
        }
    }

    func chunkArrived() {
        let now = ContinuousClock.now
        state.withLock { $0.lastChunk = now }
    }

    /// Returns only by throwing: a timeout error when a deadline passes, or
    /// CancellationError when the request ends first.
    func watch(start: ContinuousClock.Instant, timeouts: ProviderTimeouts, provider: String) async throws {
        let totalDeadline = start + timeouts.total
        while true {
            let (head, last) = state.withLock { ($0.headArrived, $0.lastChunk) }
            let phaseDeadline = head ? last + timeouts.idle : start + timeouts.firstByte
            let deadline = min(totalDeadline, phaseDeadline)
            if ContinuousClock.now >= deadline {
                let message: String
                if deadline == totalDeadline {
                    message = "the request took longer than its total timeout of \(timeouts.total)"
                } else if head {
                    message = "no data arrived for \(timeouts.idle) in the middle of the response"
                } else {
                    message = "no response arrived within the first-byte timeout of \(timeouts.firstByte)"
                }
                throw ProviderError(.timeout, provider: provider, message: message)
            }
            // Wake at least every quarter of the idle timeout: the phase may change (the head
            // arrives) while asleep, bringing an earlier deadline.
            try await Task.sleep(until: min(deadline, .now + timeouts.idle / 4), clock: .continuous)
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
