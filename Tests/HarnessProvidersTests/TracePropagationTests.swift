//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessCore
import HarnessProviders
import HarnessProvidersTesting
import InMemoryTracing
import Instrumentation
import Synchronization
import Testing
import Tracing

/// Writes a W3C `traceparent` for the in-memory tracer's span context (whose ids are made
/// W3C-shaped below), as an OpenTelemetry tracer would for its own.
struct W3CTraceparentInstrument: Instrument {
    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {}
}

@Suite struct TracePropagationTests {
    static func hexIDs() -> InMemoryTracer.IDGenerator {
        let counter = Mutex(UInt64(0))
        let next: @Sendable (Int) -> String = { digits in
            let n = counter.withLock { $0 += 1; return $0 }
            let hex = String(n, radix: 16)
            return String(repeating: "0", count: digits - hex.count) + hex
        }
        return InMemoryTracer.IDGenerator(nextTraceID: { next(32) }, nextSpanID: { next(16) })
    }

    static let toolCallsReply = #"""
        {"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"echo","arguments":"{\"text\":\"a\"}"}},{"id":"call_b","type":"function","function":{"name":"echo","arguments":"{\"text\":\"b\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}
        """#
    static let textReply = #"""
        {"id":"chatcmpl-2","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"done"},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":2,"total_tokens":32}}
        """#

    /// A run with two tool calls against a real HTTP server: each request carries the trace
    /// context of its own `chat` span (the tracer's headers and a W3C `traceparent`), and the
    /// chat spans carry the response's model and id.
    @Test func traceContextReachesTheServer() async throws {
        let tracer = InMemoryTracer(idGenerator: Self.hexIDs())
        let replies = Mutex(0)
        let server = try await WireTestServer.start { _ in
            let n = replies.withLock { $0 += 1; return $0 }
            return .json(n == 1 ? Self.toolCallsReply : Self.textReply, headers: [("x-request-id", "req_\(n)")])
        }
        defer { server.shutdown() }
        let client = ProviderHTTPClient(instrument: MultiplexInstrument([tracer, W3CTraceparentInstrument()]))
        let model = OpenAIChatModel(
            apiKey: "sk-test-0123456789abcdef",
            settings: ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai"),
            client: client
        )
        let echo = FunctionTool(name: "echo", description: "Echoes") { args, _ in ToolOutput(args["text"]?.stringValue ?? "") }
        let agent = Agent(name: "a", model: model, modelID: "gpt-4o", tools: [echo])
        let orchestrator = Orchestrator(configuration: .init(observability: Observability(tracer: tracer, metricsFactory: nil)))
        let result = try await orchestrator.run(agent, input: "hi")
        try await client.shutdown()
        #expect(result.finalText == "done")
        #expect(result.toolCalls.count == 2)

        let spans = tracer.finishedSpans
        let chats = spans.filter { $0.operationName == "chat gpt-4o" }
            .sorted { (attribute($0, "gen_ai.response.id") ?? "") < (attribute($1, "gen_ai.response.id") ?? "") }
        try #require(chats.count == 2)
        #expect(chats.map { attribute($0, "gen_ai.response.id") } == ["req_1", "req_2"])
        #expect(chats.map { attribute($0, "gen_ai.provider.name") } == ["openai", "openai"])
        #expect(chats.map { attribute($0, "gen_ai.response.model") } == ["gpt-4o-2024-08-06", "gpt-4o-2024-08-06"])
        #expect(spans.filter { $0.operationName == "execute_tool echo" }.count == 2)

        let requests = server.requests
        try #require(requests.count == 2)
        for (request, chat) in zip(requests, chats) {
            #expect(request.header("traceparent") == "00-\(chat.traceID)-\(chat.spanID)-01")
            #expect(request.header(InMemoryTracer.traceIDKey) == chat.traceID)
            #expect(request.header(InMemoryTracer.spanIDKey) == chat.spanID)
            #expect(request.header("authorization") == "Bearer sk-test-0123456789abcdef")
        }
        #expect(chats[0].traceID.count == 32 && chats[0].spanID.count == 16)
    }
}

func attribute(_ span: FinishedInMemorySpan, _ key: String) -> String? {
    guard let value = span.attributes.get(key) else { return nil }
    switch value {
    case .string(let s): return s
    case .int64(let i): return String(i)
    default: return String(describing: value)
    }
}
