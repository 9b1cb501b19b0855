//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Prometheus
import CoreMetrics
import HarnessConfig
import Foundation
import HTTPTypes
import Harness
import HarnessCore
public import Hummingbird
import Logging
import NIOCore
import Synchronization
import Tracing
import Instrumentation
import ServiceContextModule

/// The client wire format of a request, which decides the shape of its errors.
enum ClientFormat: Sendable {
    case openAI
    case anthropic
}

/// A model stream's iterator handed from the handler (which reads the first event, to answer
/// an upstream failure with a real status code) to the response body writer. Used by one
/// task at a time, in sequence.
final class StreamCursor: @unchecked Sendable {
    var iterator: ModelEventStream.AsyncIterator
    /// The first events, read before the response starts (nil: the stream was empty).
    var first: [ModelStreamEvent]?

    init(_ stream: ModelEventStream) {
        self.iterator = stream.makeAsyncIterator()
    }

    /// The next event and the ones already available after it.
    func nextBatch() async throws -> [ModelStreamEvent]? {
        if let f = first {
            first = nil
            return f
        }
        return try await iterator.nextBatch()
    }
}

extension HTTPField.Name {
    static let xAPIKey = HTTPField.Name("x-api-key")!
    static let xRequestID = HTTPField.Name("x-request-id")!
    static let requestID = HTTPField.Name("request-id")!
    static let retryAfterMS = HTTPField.Name("retry-after-ms")!
    static let xShouldRetry = HTTPField.Name("x-should-retry")!
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
}

extension Gateway {
    static let requestCounter = Atomic<UInt64>(0)
    static let processTag: String = {
        var rng = SystemRandomNumberGenerator()
        return String(UInt32.random(in: 0...UInt32.max, using: &rng), radix: 36)
    }()

    /// A unique id for a request: a per-process tag and a counter.
    static func newRequestID() -> String {
        let n = requestCounter.add(1, ordering: .relaxed).newValue
        return processTag + String(n, radix: 36)
    }

    /// The Hummingbird routes of the gateway.
    public func makeRouter() -> Hummingbird.Router<BasicRequestContext> {
        let router = Hummingbird.Router(context: BasicRequestContext.self)
        router.post("/v1/chat/completions") { request, context in
            await self.chatCompletions(request)
        }
        router.post("/v1/messages") { request, context in
            await self.messages(request)
        }
        router.get("/v1/models") { request, _ in
            await self.listModels(request)
        }
        router.post("/v1/embeddings") { request, _ in
            await self.embeddings(request)
        }
        router.post("/v1/agents/:name/runs") { request, context in
            await self.agentRun(request, name: context.parameters.get("name") ?? "")
        }
        router.get("/v1/agents") { request, _ in
            await self.listAgents(request)
        }
        router.get("/health/live") { _, _ in
            Self.json(.ok, #"{"status":"ok"}"#)
        }
        router.get("/health/ready") { _, _ in
            await self.ready()
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            self.registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        addAdminRoutes(to: router)
        router.get("/") { _, _ in await self.dashboard() }
        router.get("/dashboard") { _, _ in await self.dashboard() }
        return router
    }

    // MARK: - Helpers

    static func json(_ status: HTTPResponse.Status, _ text: String, requestID: String? = nil) -> Response {
        json(status, Array(text.utf8), requestID: requestID)
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8], requestID: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let requestID {
            headers[.xRequestID] = requestID
            headers[.requestID] = requestID
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func errorResponse(_ error: GatewayError, format: ClientFormat, requestID: String) -> Response {
        metrics.error(code: error.code)
        var headers: HTTPFields = [.contentType: "application/json", .xRequestID: requestID, .requestID: requestID]
        if let after = error.retryAfter {
            let ms = max(0, after.components.seconds * 1000 + after.components.attoseconds / 1_000_000_000_000_000)
            headers[.retryAfter] = String((ms + 999) / 1000)
            headers[.retryAfterMS] = String(ms)
        }
        if let retry = error.shouldRetry { headers[.xShouldRetry] = retry ? "true" : "false" }
        let body = format == .openAI ? error.openAIBody : error.anthropicBody
        return Response(
            status: HTTPResponse.Status(code: error.kind.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    func readBody(_ request: Request) async throws -> [UInt8] {
        let body = request.body
        do {
            let buffer = try await body.collect(upTo: configuration.server.maxBodySize)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw GatewayError(.tooLarge, code: "request_too_large", "the request body is larger than \(configuration.server.maxBodySize) bytes")
        }
    }

    func principal(_ request: Request, forModelRequest: Bool = true) async throws -> Principal {
        let secret = KeyAuthenticator.presentedKey(
            authorization: request.headers[.authorization], xAPIKey: request.headers[.xAPIKey]
        )
        do {
            return try await authenticator.authenticate(secret, forModelRequest: forModelRequest)
        } catch let error as GatewayError {
            if error.kind == .rateLimited { metrics.rateLimitHit() }
            if error.code == "budget_exceeded" { metrics.budgetRejection() }
            throw error
        } catch {
            throw GatewayError(.unavailable, code: "key_store_unavailable", "the key store did not answer: \(error)")
        }
    }

    /// Runs `body`, answering any failure in the client's format, and counts the request.
    func serve(
        _ endpoint: String, format: ClientFormat, requestID: String, request: Request? = nil,
        _ body: () async throws -> Response
    ) async -> Response {
        guard let request else { return await respond(endpoint, format: format, requestID: requestID, body) }
        // W3C trace context from the client: the request's span continues the caller's trace,
        // and the provider requests made under it carry it on.
        let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
        let context = TraceContextPropagation.extract(from: headers)
        return await ServiceContext.withValue(context) {
            await withSpan("gateway \(endpoint)", ofKind: .server) { span in
                span.attributes["harness.request.id"] = requestID
                let response = await respond(endpoint, format: format, requestID: requestID, body)
                span.attributes["http.response.status_code"] = Int(response.status.code)
                if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
                return response
            }
        }
    }

    private func respond(
        _ endpoint: String, format: ClientFormat, requestID: String,
        _ body: () async throws -> Response
    ) async -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await body()
        } catch {
            let e = GatewayError.from(error)
            if e.kind.status >= 500 {
                logger.warning("request failed", metadata: ["event": "request_failed", "endpoint": "\(endpoint)", "code": "\(e.code)", "request_id": "\(requestID)"])
            }
            response = errorResponse(e, format: format, requestID: requestID)
        }
        // Streams count their duration when they end; others here.
        if response.headers[.contentType] != "text/event-stream" {
            metrics.request(endpoint: endpoint, status: response.status.code, duration: .now - started)
        }
        return response
    }

    // MARK: - Chat (OpenAI) and messages (Anthropic)

    func chatCompletions(_ request: Request) async -> Response {
        let requestID = "chatcmpl-" + Self.newRequestID()
        return await serve("chat_completions", format: .openAI, requestID: requestID, request: request) {
            let principal = try await principal(request)
            let body = try await readBody(request)
            let parsed = try OpenAIServerWire.request(try GatewayRequest.parseBody(body))
            let model = try model(named: parsed.model.model)
            let created = Int(Date().timeIntervalSince1970)
            let started = ContinuousClock.now
            if !parsed.stream {
                do {
                    let response = try await model.model.complete(parsed.model)
                    book(principal: principal, model: model, usage: response.usage, status: "ok", started: started, requestID: requestID)
                    return Self.json(.ok, OpenAIServerWire.response(response, id: requestID, model: model.name, created: created), requestID: requestID)
                } catch {
                    book(principal: principal, model: model, usage: nil, status: GatewayError.from(error).code, started: started, requestID: requestID)
                    throw error
                }
            }
            let encoder = OpenAIStreamEncoder(id: requestID, model: model.name, created: created, includeUsage: parsed.includeUsage)
            return try await stream(
                model: model, request: parsed.model, principal: principal, requestID: requestID, format: .openAI, started: started,
                start: { out in encoder.start(into: &out) },
                encoder: encoder,
                encode: { encoder, event, out in encoder.encode(event, into: &out) },
                fail: { error, out in OpenAIStreamEncoder.error(error, into: &out) }
            )
        }
    }

    func messages(_ request: Request) async -> Response {
        let requestID = "msg_" + Self.newRequestID()
        return await serve("messages", format: .anthropic, requestID: requestID, request: request) {
            let principal = try await principal(request)
            let body = try await readBody(request)
            let parsed = try AnthropicServerWire.request(try GatewayRequest.parseBody(body))
            let model = try model(named: parsed.model.model)
            let started = ContinuousClock.now
            if !parsed.stream {
                do {
                    let response = try await model.model.complete(parsed.model)
                    book(principal: principal, model: model, usage: response.usage, status: "ok", started: started, requestID: requestID)
                    return Self.json(.ok, AnthropicServerWire.response(response, id: requestID, model: model.name), requestID: requestID)
                } catch {
                    book(principal: principal, model: model, usage: nil, status: GatewayError.from(error).code, started: started, requestID: requestID)
                    throw error
                }
            }
            var estimate = HeuristicTokenCounter().count(parsed.model.system ?? "")
            for m in parsed.model.messages { estimate += HeuristicTokenCounter().count(m) }
            let inputEstimate = estimate
            let encoder = AnthropicStreamEncoder(id: requestID, model: model.name)
            return try await stream(
                model: model, request: parsed.model, principal: principal, requestID: requestID, format: .anthropic, started: started,
                start: { out in encoder.start(inputTokens: inputEstimate, into: &out) },
                encoder: encoder,
                encode: { encoder, event, out in encoder.encode(event, into: &out) },
                fail: { error, out in AnthropicStreamEncoder.error(error, into: &out) }
            )
        }
    }

    /// Streams a model's answer as server-sent events. The first event is awaited before the
    /// response starts, so an upstream that fails at once gets a proper error status; later
    /// failures end the stream with an error event after what was delivered. A client that
    /// goes away makes the next write fail, which ends the loop and cancels the upstream.
    func stream<Encoder: Sendable>(
        model: GatewayModel, request: ModelRequest, principal: Principal, requestID: String, format: ClientFormat,
        started: ContinuousClock.Instant,
        start: @escaping @Sendable (inout [UInt8]) -> Void,
        encoder: Encoder,
        encode: @escaping @Sendable (inout Encoder, ModelStreamEvent, inout [UInt8]) -> Void,
        fail: @escaping @Sendable (GatewayError, inout [UInt8]) -> Void
    ) async throws -> Response {
        let cursor = StreamCursor(model.model.stream(request))
        do {
            cursor.first = try await cursor.iterator.nextBatch()
        } catch {
            book(principal: principal, model: model, usage: nil, status: GatewayError.from(error).code, started: started, requestID: requestID)
            throw error
        }
        let endpoint = format == .openAI ? "chat_completions" : "messages"
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache",
            .xRequestID: requestID, .requestID: requestID,
        ]
        // A stream that has already ended (a short answer that came in one upstream read, a
        // cached or scripted one) goes out whole: head, events and end in one write, with a
        // Content-Length instead of chunks. Clients read it as any other event stream.
        if let first = cursor.first, let rest = cursor.iterator.restIfEnded() {
            var encoder = encoder
            var usage: Usage? = nil
            var out: [UInt8] = []
            out.reserveCapacity(1024)
            start(&out)
            for event in first + rest {
                if case .usage(let u) = event { usage = u }
                encode(&encoder, event, &out)
            }
            // The end of the stream ([DONE], message_stop) comes from the encoder's `finish`
            // event; nothing is owed after the last event.
            book(principal: principal, model: model, usage: usage, status: "ok", started: started, requestID: requestID)
            metrics.request(endpoint: endpoint, status: 200, duration: .now - started)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: out)))
        }
        metrics.streamsInFlight.increment(by: 1)
        let body = ResponseBody { writer in
            var encoder = encoder
            var usage: Usage? = nil
            var status = "ok"
            var out: [UInt8] = []
            out.reserveCapacity(1024)
            start(&out)
            defer {
                self.metrics.streamsInFlight.decrement(by: 1)
                self.metrics.request(endpoint: endpoint, status: 200, duration: .now - started)
            }
            do {
                // The events one upstream read completed go out in one write (one flush).
                while let batch = try await cursor.nextBatch() {
                    for event in batch {
                        if case .usage(let u) = event { usage = u }
                        encode(&encoder, event, &out)
                    }
                    if !out.isEmpty {
                        try await writer.write(ByteBuffer(bytes: out))
                        out.removeAll(keepingCapacity: true)
                    }
                }
            } catch {
                let e = GatewayError.from(error)
                status = e.code
                if !(error is CancellationError) {
                    fail(e, &out)
                    try? await writer.write(ByteBuffer(bytes: out))
                }
                self.book(principal: principal, model: model, usage: usage, status: status, started: started, requestID: requestID)
                self.metrics.error(code: e.code)
                try? await writer.finish(nil)
                return
            }
            self.book(principal: principal, model: model, usage: usage, status: status, started: started, requestID: requestID)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    // MARK: - Models and embeddings

    func listModels(_ request: Request) async -> Response {
        let anthropic = request.headers[.anthropicVersion] != nil
        let requestID = Self.newRequestID()
        return await serve("models", format: anthropic ? .anthropic : .openAI, requestID: requestID) {
            _ = try await principal(request, forModelRequest: false)
            var w = JSONWriter(capacity: 256)
            w.object { w in
                if anthropic {
                    w.key("data")
                    w.array { w in
                        for name in modelNames {
                            w.object { w in
                                w.key("type"); w.string("model")
                                w.key("id"); w.string(name)
                                w.key("display_name"); w.string(name)
                                w.key("created_at"); w.string("2025-01-01T00:00:00Z")
                            }
                        }
                    }
                    w.key("has_more"); w.bool(false)
                    w.key("first_id"); w.stringOrNull(modelNames.first)
                    w.key("last_id"); w.stringOrNull(modelNames.last)
                } else {
                    w.key("object"); w.string("list")
                    w.key("data")
                    w.array { w in
                        for name in modelNames {
                            w.object { w in
                                w.key("id"); w.string(name)
                                w.key("object"); w.string("model")
                                w.key("created"); w.int(0)
                                w.key("owned_by"); w.string(models[name]?.provider ?? "harness")
                            }
                        }
                    }
                }
            }
            return Self.json(.ok, w.bytes, requestID: requestID)
        }
    }

    func embeddings(_ request: Request) async -> Response {
        let requestID = "emb-" + Self.newRequestID()
        return await serve("embeddings", format: .openAI, requestID: requestID, request: request) {
            let principal = try await principal(request)
            let root = FieldReader(try GatewayRequest.parseBody(try await readBody(request)), path: "")
            let name = try root.required("model").string()
            let model = try model(named: name)
            guard let embedder = embedders[name] else {
                throw GatewayError(.invalidRequest, code: "embeddings_unsupported", "the model '\(name)' has no embeddings (its provider offers none)", param: "model")
            }
            let input = try root.required("input")
            let texts: [String]
            if case .string(let s) = input.value { texts = [s] } else { texts = try input.array().map { try $0.string() } }
            guard !texts.isEmpty else { throw GatewayError.invalid("input", "must not be empty") }
            let format = try root.child("encoding_format")?.string() ?? "float"
            guard format == "float" || format == "base64" else {
                throw GatewayError.invalid("encoding_format", "must be float or base64 (not '\(format)')")
            }
            let started = ContinuousClock.now
            let result: Embeddings
            do {
                result = try await embedder.embed(texts, model: model.pricedModel)
            } catch {
                book(principal: principal, model: model, usage: nil, status: GatewayError.from(error).code, started: started, requestID: requestID)
                throw error
            }
            book(principal: principal, model: model, usage: result.usage, status: "ok", started: started, requestID: requestID)
            var w = JSONWriter(capacity: 64 + result.vectors.count * 16 * 12)
            w.object { w in
                w.key("object"); w.string("list")
                w.key("data")
                w.array { w in
                    for (i, vector) in result.vectors.enumerated() {
                        w.object { w in
                            w.key("object"); w.string("embedding")
                            w.key("index"); w.int(i)
                            w.key("embedding")
                            if format == "base64" {
                                var bytes = Data(capacity: vector.count * 4)
                                for f in vector { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                                w.string(bytes.base64EncodedString())
                            } else {
                                w.array { w in for f in vector { w.double(Double(f)) } }
                            }
                        }
                    }
                }
                w.key("model"); w.string(name)
                w.key("usage")
                w.object { w in
                    w.key("prompt_tokens"); w.int(result.usage.inputTokens)
                    w.key("total_tokens"); w.int(result.usage.inputTokens)
                }
            }
            return Self.json(.ok, w.bytes, requestID: requestID)
        }
    }

    // MARK: - Health

    func ready() async -> Response {
        let (ready, checks) = await readiness()
        var w = JSONWriter()
        w.object { w in
            w.key("status"); w.string(ready ? "ready" : "not_ready")
            w.key("checks")
            w.object { w in for (name, result) in checks { w.key(name); w.string(result) } }
        }
        return Self.json(ready ? .ok : .serviceUnavailable, w.bytes)
    }
}
