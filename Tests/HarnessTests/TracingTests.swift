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
import HarnessTesting
import InMemoryTracing
import Instrumentation
import MetricsTestKit
import Testing
import Tracing

/// A test error that names its own telemetry class.
struct QuotaError: ErrorTypeReporting, Sendable {
    var errorType: String { "rate_limited" }
}

/// A span's attribute as a plain value, for comparisons.
func attribute(_ span: FinishedInMemorySpan, _ key: String) -> String? {
    guard let value = span.attributes.get(key) else { return nil }
    switch value {
    case .string(let s): return s
    case .int64(let i): return String(i)
    case .int32(let i): return String(i)
    case .bool(let b): return String(b)
    case .stringArray(let a): return a.joined(separator: ",")
    default: return String(describing: value)
    }
}

/// Every attribute value of `spans`, as text.
func allAttributeText(_ spans: [FinishedInMemorySpan]) -> String {
    var text = ""
    for span in spans {
        span.attributes.forEach { key, value in text += "\(key)=\(value)\n" }
    }
    return text
}

@Suite struct TracingTests {
    static let secretPrompt = "my card is 4111-SECRET-PROMPT"
    static let secretArgument = "ARGUMENT-NEVER-TRACED"

    static func twoToolAgent() -> (Agent, ScriptedModel) {
        let model = ScriptedModel([
            .toolCalls(
                [
                    call("call_1", "echo", ["text": .string(secretArgument)]),
                    call("call_2", "lookup", ["text": "k"]),
                ],
                usage: Usage(inputTokens: 11, outputTokens: 7)
            ),
            .text("done", usage: Usage(inputTokens: 20, outputTokens: 3)),
        ])
        let agent = Agent(
            name: "support", model: model, modelID: "gpt-test", tools: [echoTool("echo"), echoTool("lookup", readOnly: false)]
        )
        return (agent, model)
    }

    /// A run with two tool calls gives the span tree run → iterations → chat / tools / store
    /// calls, all in one trace, with the GenAI attributes; no prompt or argument text is in
    /// any attribute. Played with `run` and with `stream` (where the read-only tool starts
    /// early, during the chat span, and must still hang under the iteration).
    @Test(arguments: [false, true]) func runWithTwoToolCallsGivesTheSpanTree(streaming: Bool) async throws {
        let tracer = InMemoryTracer()
        let metrics = TestMetrics()
        let store = InMemoryConversationStore()
        let orchestrator = Orchestrator(
            configuration: .init(
                conversationStore: store, observability: Observability(tracer: tracer, metricsFactory: metrics)
            )
        )
        let (agent, _) = Self.twoToolAgent()
        let options = RunOptions(conversationID: "conv-1")
        let result: RunResult
        if streaming {
            result = try await orchestrator.stream(agent, input: Self.secretPrompt, options: options).result()
        } else {
            result = try await orchestrator.run(agent, input: Self.secretPrompt, options: options)
        }
        #expect(result.stopReason == .completed)

        let spans = tracer.finishedSpans
        #expect(tracer.activeSpans.isEmpty, "every span ended")
        let runs = spans.filter { $0.operationName == "invoke_agent support" }
        try #require(runs.count == 1)
        let run = runs[0]
        #expect(run.parentSpanID == nil)
        #expect(Set(spans.map(\.traceID)) == [run.traceID], "one trace")

        let iterations = spans.filter { $0.operationName == "harness.iteration" }
            .sorted { (attribute($0, "harness.iteration") ?? "") < (attribute($1, "harness.iteration") ?? "") }
        try #require(iterations.count == 2)
        for iteration in iterations { #expect(iteration.parentSpanID == run.spanID) }
        #expect(iterations.map { attribute($0, "harness.iteration") } == ["1", "2"])

        let chats = spans.filter { $0.operationName == "chat gpt-test" }
        try #require(chats.count == 2)
        #expect(Set(chats.map(\.parentSpanID)) == Set(iterations.map(\.spanID)), "one chat span per iteration")
        for chat in chats {
            #expect(chat.kind == .client)
            #expect(attribute(chat, "gen_ai.operation.name") == "chat")
            #expect(attribute(chat, "gen_ai.provider.name") == "scripted")
            #expect(attribute(chat, "gen_ai.request.model") == "gpt-test")
        }
        let firstChat = try #require(chats.first { $0.parentSpanID == iterations[0].spanID })
        #expect(attribute(firstChat, "gen_ai.response.finish_reasons") == "tool_calls")
        #expect(attribute(firstChat, "gen_ai.usage.input_tokens") == "11")
        #expect(attribute(firstChat, "gen_ai.usage.output_tokens") == "7")

        let tools = spans.filter { $0.operationName.hasPrefix("execute_tool") }
        #expect(Set(tools.map(\.operationName)) == ["execute_tool echo", "execute_tool lookup"])
        for tool in tools {
            #expect(tool.parentSpanID == iterations[0].spanID, "\(tool.operationName) hangs under iteration 1")
            #expect(attribute(tool, "gen_ai.operation.name") == "execute_tool")
            #expect(attribute(tool, "harness.tool.outcome") == "success")
            #expect(tool.status?.code != .error)
        }
        let echo = try #require(tools.first { $0.operationName == "execute_tool echo" })
        #expect(attribute(echo, "gen_ai.tool.name") == "echo")
        #expect(attribute(echo, "gen_ai.tool.call.id") == "call_1")
        if streaming { #expect(attribute(echo, "harness.tool.started_early") == "true") }

        #expect(attribute(run, "gen_ai.operation.name") == "invoke_agent")
        #expect(attribute(run, "gen_ai.agent.name") == "support")
        #expect(attribute(run, "gen_ai.request.model") == "gpt-test")
        #expect(attribute(run, "gen_ai.conversation.id") == "conv-1")
        #expect(attribute(run, "harness.run.id") == result.runID)
        #expect(attribute(run, "harness.stop_reason") == "completed")
        #expect(attribute(run, "gen_ai.usage.input_tokens") == "31")

        // Store calls: one load under the run, one append per message under run or iteration.
        let loads = spans.filter { $0.operationName == "conversation_store load" }
        #expect(loads.count == 1)
        #expect(loads.first?.parentSpanID == run.spanID)
        let appends = spans.filter { $0.operationName == "conversation_store append" }
        #expect(appends.count == result.messages.count)
        let allowedParents = Set([run.spanID] + iterations.map(\.spanID))
        for append in appends { #expect(allowedParents.contains(append.parentSpanID ?? "")) }

        let text = allAttributeText(spans)
        #expect(!text.contains("SECRET-PROMPT"))
        #expect(!text.contains(Self.secretArgument))
        #expect(!text.contains("echo:"), "no tool result text")
    }

    /// A failing model call: the chat, iteration and run spans are marked as errors with the
    /// error's class; the provider error is counted.
    @Test func failedModelCallMarksTheSpans() async throws {
        let tracer = InMemoryTracer()
        let metrics = TestMetrics()
        let orchestrator = Orchestrator(
            configuration: .init(observability: Observability(tracer: tracer, metricsFactory: metrics))
        )
        let agent = Agent(name: "a", model: ScriptedModel([.failure(QuotaError())]), modelID: "m")
        await #expect(throws: RunError.self) { try await orchestrator.run(agent, input: "hi") }

        let spans = tracer.finishedSpans
        let chat = try #require(spans.first { $0.operationName == "chat m" })
        #expect(chat.status?.code == .error)
        #expect(attribute(chat, "error.type") == "rate_limited")
        let iteration = try #require(spans.first { $0.operationName == "harness.iteration" })
        #expect(iteration.status?.code == .error)
        let run = try #require(spans.first { $0.operationName == "invoke_agent a" })
        #expect(run.status?.code == .error)
        #expect(attribute(run, "error.type") == "rate_limited")
        #expect(attribute(run, "harness.stop_reason") == "failed")

        #expect(metrics.counterTotal(label: "harness_provider_errors_total", dimensions: [("provider", "scripted"), ("error_type", "rate_limited")]) == 1)
        #expect(metrics.counterTotal(label: "harness_provider_calls_total", dimensions: [("provider", "scripted"), ("status", "error")]) == 1)
        #expect(metrics.counterTotal(label: "harness_requests_total", dimensions: [("status", "failed")]) == 1)
    }

    /// A tool that fails and a call to a tool the model made up: error spans, and the made-up
    /// name is not a span name or label.
    @Test func failingAndUnknownToolsAreErrorSpans() async throws {
        let tracer = InMemoryTracer()
        let metrics = TestMetrics()
        let orchestrator = Orchestrator(
            configuration: .init(observability: Observability(tracer: tracer, metricsFactory: metrics))
        )
        let broken = FunctionTool(name: "broken", description: "Fails") { _, _ in throw QuotaError() }
        let model = ScriptedModel([
            .toolCalls([call("c1", "broken"), call("c2", "made_up_by_model_91")]),
            .text("ok"),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [broken])
        _ = try await orchestrator.run(agent, input: "hi")

        let spans = tracer.finishedSpans
        let failed = try #require(spans.first { $0.operationName == "execute_tool broken" })
        #expect(failed.status?.code == .error)
        #expect(attribute(failed, "error.type") == "failed")
        let unknown = try #require(spans.first { attribute($0, "gen_ai.tool.call.id") == "c2" })
        #expect(unknown.operationName == "execute_tool")
        #expect(unknown.status?.code == .error)
        #expect(attribute(unknown, "gen_ai.tool.name") == "unknown")
        #expect(!spans.contains { $0.operationName.contains("made_up") })

        #expect(metrics.counterTotal(label: "harness_tool_calls_total", dimensions: [("tool_name", "broken"), ("status", "failed")]) == 1)
        #expect(metrics.counterTotal(label: "harness_tool_calls_total", dimensions: [("tool_name", "unknown"), ("status", "unknown_tool")]) == 1)
        #expect(!metrics.counters.contains { $0.dimensions.contains { $0.1.contains("made_up") } })
    }

    /// Trace context from incoming headers becomes the parent of the run's spans (what the
    /// gateway does with a client's headers), and headers(for:) writes it back out.
    @Test func incomingTraceContextParentsTheRun() async throws {
        let tracer = InMemoryTracer()
        let incoming = [("In-Memory-Trace-Id", "trace-from-client"), ("in-memory-span-id", "span-from-client")]
        let context = TraceContextPropagation.extract(from: incoming, instrument: tracer)
        #expect(context.inMemorySpanContext?.traceID == "trace-from-client")
        let dictionaryContext = TraceContextPropagation.extract(
            from: ["in-memory-trace-id": "t2", "IN-MEMORY-SPAN-ID": "s2"], instrument: tracer
        )
        #expect(dictionaryContext.inMemorySpanContext?.spanID == "s2")

        let orchestrator = Orchestrator(
            configuration: .init(observability: Observability(tracer: tracer, metricsFactory: TestMetrics()))
        )
        let agent = Agent(name: "a", model: ScriptedModel([.text("hi")]), modelID: "m")
        _ = try await ServiceContext.withValue(context) { try await orchestrator.run(agent, input: "hi") }
        let run = try #require(tracer.finishedSpans.first { $0.operationName == "invoke_agent a" })
        #expect(run.traceID == "trace-from-client")
        #expect(run.parentSpanID == "span-from-client")

        let outgoing = TraceContextPropagation.headers(for: context, instrument: tracer)
        #expect(outgoing.contains { $0.0 == "in-memory-trace-id" && $0.1 == "trace-from-client" })
    }
}
