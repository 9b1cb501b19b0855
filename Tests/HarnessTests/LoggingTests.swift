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
import Logging
import Synchronization
import Testing
import Tracing

/// Keeps every event it is given.
final class CapturedLogs: Sendable {
    let events = Mutex<[LogEvent]>([])

    var all: [LogEvent] { events.withLock { $0 } }

    func handler(level: Logger.Level = .trace) -> CapturingLogHandler {
        var handler = CapturingLogHandler(sink: self)
        handler.logLevel = level
        return handler
    }
}

/// A handler that merges its metadata into each event and hands it to a ``CapturedLogs``.
struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = metadata.merging(event.metadata ?? [:]) { _, new in new }
        sink.events.withLock { $0.append(event) }
    }
}

/// The text of an event: message, metadata and error, to search for secrets.
func fullText(_ event: LogEvent) -> String {
    "\(event.message) \(event.metadata ?? [:]) \(event.error.map { String(describing: $0) } ?? "")"
}

struct LeakyError: Error, CustomStringConvertible {
    var description: String { "upstream said: Incorrect API key provided: sk-proj-abcdefghijklmnop1234" }
}

@Suite struct LoggingTests {
    static let secrets = [
        "sk-proj-abcdefghijklmnop1234", "sk-ant-api03-ABCDEFGHIJKLMNOP", "AIzaSyA1234567890abcdefgh",
        "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOiJIUzI1NiJ9.payload", "hunter2-short",
    ]

    /// Secrets in messages, metadata (event, handler, provider, nested) and errors never reach
    /// the wrapped handler; other text does.
    @Test func redactsSecrets() {
        let logs = CapturedLogs()
        var logger = Logger(label: "t", factory: { _ in RedactingLogHandler(wrapping: logs.handler()) })
        logger[metadataKey: "api_key"] = "hunter2-short"
        logger[metadataKey: "tenant"] = "acme"
        logger.info(
            "calling with sk-proj-abcdefghijklmnop1234 and AIzaSyA1234567890abcdefgh",
            metadata: [
                "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.payload",
                "x-api-key": "sk-ant-api03-ABCDEFGHIJKLMNOP",
                "request": ["headers": ["note": "AKIAIOSFODNN7EXAMPLE in a dictionary"]],
                "list": ["plain", "sk-ant-api03-ABCDEFGHIJKLMNOP"],
                "model": "gpt-4o",
            ]
        )
        logger.error("failed", error: LeakyError())
        let events = logs.all
        #expect(events.count == 2)
        for event in events {
            let text = fullText(event)
            for secret in Self.secrets { #expect(!text.contains(secret), "\(secret) leaked: \(text)") }
            #expect(text.contains("[redacted]"))
            #expect(event.metadata?["tenant"] == "acme")
        }
        #expect(events[0].message.description.hasPrefix("calling with [redacted] and [redacted]"))
        #expect(events[0].metadata?["model"] == "gpt-4o")
        #expect(events[0].metadata?["Authorization"] == "[redacted]")
    }

    /// Key shapes the scrubber knows, and text it must leave alone.
    @Test func scrubShapes() {
        #expect(Redaction.scrub("key=sk-ant-api03-abcdefgh_ijk end") == "key=[redacted] end")
        #expect(Redaction.scrub("Authorization: Bearer abc.def.ghi123") == "Authorization: [redacted]")
        #expect(Redaction.scrub("ask-me-anything about risk-taking") == "ask-me-anything about risk-taking")
        #expect(Redaction.isSensitiveKey("X-API-Key"))
        #expect(Redaction.isSensitiveKey("http.request.header.authorization"))
        #expect(!Redaction.isSensitiveKey("gen_ai.usage.input_tokens"))
    }

    /// Sampling: warnings and listed events always pass; other lines pass when the draw is
    /// under the rate.
    @Test func samples() {
        let logs = CapturedLogs()
        let draws = Mutex([0.1, 0.9, 0.4, 0.6])
        let handler = SamplingLogHandler(
            wrapping: logs.handler(), rate: 0.5, alwaysLogged: ["run.failed"],
            draw: { draws.withLock { $0.isEmpty ? 0.99 : $0.removeFirst() } }
        )
        let logger = Logger(label: "t", factory: { _ in handler })
        logger.debug("a")  // 0.1 < 0.5: kept
        logger.debug("b")  // 0.9: dropped
        logger.info("c", metadata: ["event": "run.failed"])  // always, no draw
        logger.debug("d")  // 0.4: kept
        logger.warning("e")  // always, no draw
        logger.debug("f")  // 0.6: dropped
        logger.error("g")
        logger.debug("h")  // 0.99: dropped
        #expect(logs.all.map(\.message.description) == ["a", "c", "d", "e", "g"])

        let none = SamplingLogHandler(wrapping: logs.handler(), rate: 0, alwaysLogged: ["keep"])
        #expect(!none.shouldLog(LogEvent(level: .info, message: "x", metadata: nil, source: nil, file: "", function: "", line: 0)))
        #expect(none.shouldLog(LogEvent(level: .info, message: "x", metadata: ["event": "keep"], source: nil, file: "", function: "", line: 0)))
    }

    /// The orchestrator's log lines carry the run id, the agent and the iteration.
    @Test func orchestratorLogMetadata() async throws {
        let logs = CapturedLogs()
        let logger = Logger(label: "harness", factory: { _ in logs.handler() })
        let orchestrator = Orchestrator(configuration: .init(logger: logger, observability: .disabled))
        let agent = Agent(name: "helper", model: ScriptedModel([.toolCalls([call("c", "echo")]), .text("ok")]), modelID: "m", tools: [echoTool()])
        let result = try await orchestrator.run(agent, input: "hi")
        let events = logs.all
        #expect(events.map { $0.metadata?["event"]?.description } == ["run.started", "iteration.started", "iteration.started", "run.finished"])
        for event in events {
            #expect(event.metadata?["harness.run.id"]?.description == result.runID)
            #expect(event.metadata?["gen_ai.agent.name"] == "helper")
        }
        #expect(events[2].metadata?["harness.iteration"] == "2")
        #expect(events[3].metadata?["harness.stop_reason"] == "completed")

        let failing = Agent(name: "helper", model: ScriptedModel([.failure(QuotaError())]), modelID: "m")
        await #expect(throws: RunError.self) { try await orchestrator.run(failing, input: "hi") }
        let failure = try #require(logs.all.last)
        #expect(failure.level == .warning)
        #expect(failure.metadata?["event"] == "run.failed")
        #expect(failure.metadata?["error.type"] == "rate_limited")
    }
}
