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
import Harness
import HarnessCore
import Hummingbird
import NIOCore

extension Gateway {
    /// `POST /v1/agents/{name}/runs`: runs a configured agent server-side, the whole tool loop,
    /// under the same policy and guardrails as in the library and the CLI.
    ///
    /// Body: `{"input": "…"}` or `{"messages": [OpenAI-format messages]}`, optional
    /// `"conversation_id"` (continue and store the conversation), `"stream": true` for the run's
    /// events as server-sent events (`event: text_delta`, `tool_call`, `tool_result`,
    /// `iteration`, `finished`). The answer (or the last event) is the run result as JSON.
    func agentRun(_ request: Request, name: String) async -> Response {
        let requestID = "run_" + Self.newRequestID()
        return await serve("agent_runs", format: .openAI, requestID: requestID, request: request) {
            let principal = try await principal(request)
            guard let agent = agents[name] else {
                throw GatewayError(.notFound, code: "agent_not_found", "no agent named '\(name)'; configured: \(agentNames.joined(separator: ", "))")
            }
            let root = FieldReader(try GatewayRequest.parseBody(try await readBody(request)), path: "")
            var messages: [Message]
            if let input = root.child("input") {
                messages = [.user(try input.string())]
            } else if root.child("messages") != nil {
                var copy = try root.object()
                copy["model"] = .string(agent.modelID)
                messages = try OpenAIServerWire.request(.object(copy)).model.messages
            } else {
                throw GatewayError.missing("input")
            }
            let options = RunOptions(
                conversationID: try root.child("conversation_id")?.string(), tenant: configuration.server.tenant,
                metadata: principal.keyID.map { ["api_key_id": $0] } ?? [:], runID: requestID
            )
            let model = try model(named: agent.modelID)
            let started = ContinuousClock.now
            if try root.child("stream")?.bool() ?? false {
                let events = orchestrator.stream(agent, messages: messages, options: options)
                metrics.streamsInFlight.increment(by: 1)
                let body = ResponseBody { writer in
                    defer {
                        self.metrics.streamsInFlight.decrement(by: 1)
                        self.metrics.request(endpoint: "agent_runs", status: 200, duration: .now - started)
                    }
                    var out: [UInt8] = []
                    do {
                        for try await event in events {
                            Self.encode(event, into: &out)
                            if case .finished(let result) = event {
                                self.book(principal: principal, model: model, usage: result.usage, status: "ok", started: started, requestID: requestID, countsProviderMetrics: false)
                            }
                            if !out.isEmpty {
                                try await writer.write(ByteBuffer(bytes: out))
                                out.removeAll(keepingCapacity: true)
                            }
                        }
                    } catch {
                        let partial = (error as? RunError)?.partial
                        self.book(principal: principal, model: model, usage: partial?.usage, status: "failed", started: started, requestID: requestID, countsProviderMetrics: false)
                        var w = JSONWriter()
                        w.object { w in
                            w.key("error"); w.string(GatewayError.from((error as? RunError)?.underlying ?? error).message)
                            if let partial { w.key("partial"); Self.write(partial, cost: self.cost(partial.usage, model: model), into: &w) }
                        }
                        SSE.frame(event: "error", data: w.bytes, into: &out)
                        try? await writer.write(ByteBuffer(bytes: out))
                    }
                    try? await writer.finish(nil)
                }
                return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .xRequestID: requestID], body: body)
            }
            do {
                let result = try await orchestrator.run(agent, messages: messages, options: options)
                book(principal: principal, model: model, usage: result.usage, status: "ok", started: started, requestID: requestID, countsProviderMetrics: false)
                var w = JSONWriter(capacity: 1024)
                Self.write(result, cost: cost(result.usage, model: model), into: &w)
                return Self.json(.ok, w.bytes, requestID: requestID)
            } catch let error as RunError {
                book(principal: principal, model: model, usage: error.partial.usage, status: "failed", started: started, requestID: requestID, countsProviderMetrics: false)
                throw error.underlying
            }
        }
    }

    func listAgents(_ request: Request) async -> Response {
        let requestID = Self.newRequestID()
        return await serve("agents", format: .openAI, requestID: requestID) {
            _ = try await principal(request, forModelRequest: false)
            var w = JSONWriter()
            w.object { w in
                w.key("data")
                w.array { w in
                    for name in agentNames {
                        guard let agent = agents[name] else { continue }
                        w.object { w in
                            w.key("name"); w.string(name)
                            w.key("model"); w.string(agent.modelID)
                            w.key("tools"); w.array { w in for t in agent.tools { w.string(t.name) } }
                        }
                    }
                }
            }
            return Self.json(.ok, w.bytes, requestID: requestID)
        }
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    /// A run result as JSON.
    static func write(_ result: RunResult, cost: Double, into w: inout JSONWriter) {
        w.object { w in
            w.key("run_id"); w.string(result.runID)
            w.key("final_text"); w.string(result.finalText)
            w.key("stop_reason"); w.string(result.stopReason.rawValue)
            w.key("stop_detail"); w.stringOrNull(result.stopDetail)
            w.key("iterations"); w.int(result.iterations)
            w.key("usage")
            w.object { w in
                w.key("input_tokens"); w.int(result.usage.inputTokens)
                w.key("output_tokens"); w.int(result.usage.outputTokens)
                w.key("cache_read_tokens"); w.int(result.usage.cacheReadTokens)
                w.key("cache_write_tokens"); w.int(result.usage.cacheWriteTokens)
                w.key("reasoning_tokens"); w.int(result.usage.reasoningTokens)
            }
            w.key("cost_usd"); w.double(cost)
            w.key("cache_hits"); w.int(result.cacheHits)
            w.key("duration_ms"); w.double(milliseconds(result.duration))
            w.key("tool_calls")
            w.array { w in
                for record in result.toolCalls {
                    w.object { w in
                        w.key("id"); w.string(record.call.id)
                        w.key("name"); w.string(record.call.name)
                        w.key("arguments"); w.string(record.call.rawArguments)
                        w.key("result"); w.string(record.result.content)
                        w.key("is_error"); w.bool(record.result.isError)
                        w.key("outcome"); w.string(record.outcome.rawValue)
                        w.key("iteration"); w.int(record.iteration)
                        w.key("duration_ms"); w.double(milliseconds(record.duration))
                    }
                }
            }
            w.key("messages"); w.int(result.messages.count)
        }
    }

    static func encode(_ event: RunEvent, into out: inout [UInt8]) {
        var w = JSONWriter(capacity: 128)
        let name: String
        switch event {
        case .iterationStarted(let n):
            name = "iteration"
            w.object { w in w.key("iteration"); w.int(n) }
        case .textDelta(let t):
            name = "text_delta"
            w.object { w in w.key("text"); w.string(t) }
        case .toolCallReady(let call):
            name = "tool_call"
            w.object { w in
                w.key("id"); w.string(call.id)
                w.key("name"); w.string(call.name)
                w.key("arguments"); w.string(call.rawArguments)
            }
        case .toolResult(let record):
            name = "tool_result"
            w.object { w in
                w.key("id"); w.string(record.call.id)
                w.key("name"); w.string(record.call.name)
                w.key("result"); w.string(record.result.content)
                w.key("is_error"); w.bool(record.result.isError)
                w.key("outcome"); w.string(record.outcome.rawValue)
                w.key("duration_ms"); w.double(milliseconds(record.duration))
            }
        case .notice(let text):
            name = "notice"
            w.object { w in w.key("text"); w.string(text) }
        case .finished(let result):
            name = "finished"
            write(result, cost: 0, into: &w)
        case .toolCallStarted, .toolCallArgumentsDelta, .toolExecutionStarted, .modelResponse:
            return
        }
        SSE.frame(event: name, data: w.bytes, into: &out)
    }
}
