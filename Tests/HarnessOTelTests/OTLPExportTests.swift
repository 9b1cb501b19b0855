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
import HarnessCore
import HarnessOTel
import HarnessProviders
import HarnessProvidersTesting
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The OTLP receiver of scripts/otel-receiver.py, run with the venv of scripts/otel-setup.sh.
final class OTLPReceiver: Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    let process: Process
    /// The receiver's standard input: closing it (or this process exiting) stops the receiver.
    let stdin: Pipe
    let output: URL
    let port: Int

    /// Starts the receiver; fails (never skips) when the Python environment is missing.
    static func start() async throws -> OTLPReceiver {
        let python = root.appendingPathComponent(".build-peers/venv-otel/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            Issue.record("The OTLP receiver's Python environment is missing: run scripts/otel-setup.sh (it creates \(python.path))")
            throw HarnessError(.notFound, "no .build-peers/venv-otel: run scripts/otel-setup.sh")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = directory.appendingPathComponent("received.jsonl")
        let portFile = directory.appendingPathComponent("port")
        let process = Process()
        process.executableURL = python
        process.arguments = [
            root.appendingPathComponent("scripts/otel-receiver.py").path, output.path, "--port-file", portFile.path,
            "--exit-on-stdin-eof",
        ]
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return OTLPReceiver(process: process, stdin: stdin, output: output, port: port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try? stdin.fileHandleForWriting.close()
        process.terminate()
        Issue.record("the OTLP receiver did not start (is opentelemetry-proto installed? run scripts/otel-setup.sh)")
        throw HarnessError(.timeout, "receiver did not start")
    }

    private init(process: Process, stdin: Pipe, output: URL, port: Int) {
        self.process = process
        self.stdin = stdin
        self.output = output
        self.port = port
    }

    /// Every JSON line received so far.
    func lines() -> [[String: Any]] {
        guard let text = try? String(contentsOf: output, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }
}

@Suite struct OTLPExportTests {
    static let toolCallsReply = #"""
        {"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"echo","arguments":"{\"text\":\"a\"}"}},{"id":"call_b","type":"function","function":{"name":"echo","arguments":"{\"text\":\"b\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}
        """#
    static let textReply = #"""
        {"id":"chatcmpl-2","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"done"},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":2,"total_tokens":32}}
        """#

    /// A run with two tool calls against a real HTTP provider, exported over OTLP/HTTP to a real
    /// receiver that decodes the protobuf: span names, GenAI attributes, parent links, the
    /// resource's service name and the exporter's headers arrive; the provider saw a W3C
    /// `traceparent` naming the exported chat span; metrics arrive too.
    @Test func exportsARunsSpansAndMetrics() async throws {
        let receiver = try await OTLPReceiver.start()
        defer { receiver.stop() }
        let backends = try HarnessOTel.makeBackends(
            OTLPExportConfiguration(
                endpoint: "http://127.0.0.1:\(receiver.port)", headers: [("x-collector-key", "k-123")],
                serviceName: "harness-test", exportsMetrics: true, metricsExportInterval: .milliseconds(200),
                spanExportDelay: .milliseconds(100)
            )
        )
        let group = ServiceGroup(
            configuration: .init(services: [backends.service], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        )
        let running = Task { try await group.run() }

        let replies = Mutex(0)
        let server = try await WireTestServer.start { _ in
            let n = replies.withLock { $0 += 1; return $0 }
            return .json(n == 1 ? Self.toolCallsReply : Self.textReply, headers: [("x-request-id", "req_\(n)")])
        }
        defer { server.shutdown() }
        let client = ProviderHTTPClient(instrument: backends.tracer)
        let model = OpenAIChatModel(
            apiKey: "sk-test-0123456789abcdef",
            settings: ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai"),
            client: client
        )
        let echo = FunctionTool(name: "echo", description: "Echoes") { args, _ in ToolOutput(args["text"]?.stringValue ?? "") }
        let agent = Agent(name: "exporter-test", model: model, modelID: "gpt-4o", tools: [echo])
        let orchestrator = Orchestrator(configuration: .init(observability: backends.observability))
        let result = try await orchestrator.run(agent, input: "hi")
        try await client.shutdown()
        #expect(result.finalText == "done")

        // Wait for the spans (batched every 100 ms) and a metrics export, then shut down (which flushes).
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let lines = receiver.lines()
            let spanCount = lines.filter { $0["signal"] as? String == "span" }.count
            let hasMetric = lines.contains { $0["name"] as? String == "harness_requests_total" }
            if spanCount >= 7, hasMetric { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await group.triggerGracefulShutdown()
        // The shutdown flushes; a hung exporter must fail the test, not hang it.
        let shutDown = await withTaskGroup(of: Bool.self) { waiters in
            waiters.addTask { (try? await running.value) != nil }
            waiters.addTask {
                try? await Task.sleep(for: .seconds(120))
                running.cancel()
                return false
            }
            let first = await waiters.next() ?? false
            waiters.cancelAll()
            return first
        }
        #expect(shutDown, "the export service shut down")

        let lines = receiver.lines()
        #expect(!lines.contains { $0["signal"] as? String == "error" }, "every export decoded")
        let spans = lines.filter { $0["signal"] as? String == "span" }
        func named(_ name: String) -> [[String: Any]] { spans.filter { $0["name"] as? String == name } }
        func attributes(_ span: [String: Any]) -> [String: Any] { span["attributes"] as? [String: Any] ?? [:] }

        let runs = named("invoke_agent exporter-test")
        try #require(runs.count == 1, "spans received: \(spans.map { $0["name"] ?? "" })")
        let run = runs[0]
        #expect(attributes(run)["gen_ai.operation.name"] as? String == "invoke_agent")
        #expect(attributes(run)["gen_ai.agent.name"] as? String == "exporter-test")
        #expect((run["resource"] as? [String: Any])?["service.name"] as? String == "harness-test")

        let iterations = named("harness.iteration")
        #expect(iterations.count == 2)
        for iteration in iterations { #expect(iteration["parent_span_id"] as? String == run["span_id"] as? String) }
        let chats = named("chat gpt-4o")
        try #require(chats.count == 2)
        let iterationIDs = Set(iterations.compactMap { $0["span_id"] as? String })
        for chat in chats {
            #expect(iterationIDs.contains(chat["parent_span_id"] as? String ?? ""))
            #expect(attributes(chat)["gen_ai.operation.name"] as? String == "chat")
            #expect(attributes(chat)["gen_ai.provider.name"] as? String == "openai")
            #expect(attributes(chat)["gen_ai.request.model"] as? String == "gpt-4o")
            #expect(attributes(chat)["gen_ai.response.model"] as? String == "gpt-4o-2024-08-06")
        }
        let firstChat = try #require(chats.first { attributes($0)["gen_ai.response.id"] as? String == "req_1" })
        #expect(attributes(firstChat)["gen_ai.usage.input_tokens"] as? Int == 12)
        #expect(attributes(firstChat)["gen_ai.response.finish_reasons"] as? [String] == ["tool_calls"])
        let tools = named("execute_tool echo")
        #expect(tools.count == 2)
        #expect(Set(tools.compactMap { attributes($0)["gen_ai.tool.call.id"] as? String }) == ["call_a", "call_b"])
        #expect(Set(spans.compactMap { $0["trace_id"] as? String }).count == 1, "one trace")

        // The provider got W3C trace context naming the exported chat span.
        let requests = server.requests
        try #require(requests.count == 2)
        let traceparent = try #require(requests[0].header("traceparent"))
        let parts = traceparent.split(separator: "-").map(String.init)
        try #require(parts.count == 4)
        #expect(parts[0] == "00")
        #expect(parts[1] == firstChat["trace_id"] as? String)
        #expect(parts[2] == firstChat["span_id"] as? String)

        // The exporter's own headers.
        let exportRequests = lines.filter { $0["signal"] as? String == "request" && $0["path"] as? String == "/v1/traces" }
        #expect(!exportRequests.isEmpty)
        for request in exportRequests {
            #expect((request["headers"] as? [String: Any])?["x-collector-key"] as? String == "k-123")
        }

        // Metrics: the run's request counter, with its status label.
        let requestMetric = lines.last { $0["name"] as? String == "harness_requests_total" }
        let points = requestMetric?["points"] as? [[String: Any]] ?? []
        #expect(points.contains { ($0["attributes"] as? [String: Any])?["status"] as? String == "completed" && $0["value"] as? Int == 1 })
    }

    /// A sample rate outside 0…1 and an endpoint that is not a URL are refused with a code.
    @Test func refusesBadConfiguration() {
        #expect(throws: OTLPExportConfigurationError.self) {
            _ = try HarnessOTel.makeBackends(OTLPExportConfiguration(endpoint: "http://127.0.0.1:4318", sampleRate: 1.5))
        }
        #expect(throws: OTLPExportConfigurationError.self) {
            _ = try HarnessOTel.makeBackends(OTLPExportConfiguration(endpoint: "collector:4318"))
        }
    }
}
