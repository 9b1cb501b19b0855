//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Dispatch
import HarnessCore
import Instrumentation
import Synchronization
import Tracing

/// One tool call carried out (or refused).
struct ToolExecution: Sendable {
    var result: ToolResult
    var outcome: ToolOutcome
    var duration: Duration
    var startedEarly: Bool
}

/// Runs tool calls for a run: looks the tool up, checks the arguments and guardrails,
/// enforces the timeout and the output size limit, and turns every failure into an error
/// result the model can read.
struct ToolExecutor: Sendable {
    let tools: [String: any Tool]
    let specs: [String: ToolSpec]
    let policy: RunPolicy
    let guardrails: Guardrails
    let tracer: any Tracer
    let metrics: HarnessMetrics

    init(
        tools: [any Tool], policy: RunPolicy, guardrails: Guardrails,
        tracer: any Tracer, metrics: HarnessMetrics
    ) {
        var byName: [String: any Tool] = [:]
        var specs: [String: ToolSpec] = [:]
        for tool in tools {
            byName[tool.name] = tool
            specs[tool.name] = tool.spec
        }
        self.tools = byName
        self.specs = specs
        self.policy = policy
        self.guardrails = guardrails
        self.tracer = tracer
        self.metrics = metrics
    }

    /// The refusal for `call`, if it must not run: unknown tool, arguments that are not
    /// complete valid JSON, or a guardrail.
    func preflight(_ call: ToolCall) -> ToolExecution? {
        guard let tool = tools[call.name] else {
            let known = tools.keys.sorted().joined(separator: ", ")
            return refusal(call, .unknownTool, "Error: there is no tool named '\(call.name)'. Available tools: \(known).")
        }
        guard let arguments = call.arguments else {
            return refusal(
                call, .invalidArguments,
                "Error: the arguments of this call are not valid JSON, so '\(call.name)' was not run. Send the complete arguments as a JSON object."
            )
        }
        // The arguments must match the tool's schema: invalid arguments never reach the tool,
        // and the model gets every problem, with its path, to correct the call.
        do {
            let result = try JSONSchema.cached(tool.inputSchema).validate(arguments)
            if !result.isValid {
                return refusal(
                    call, .invalidArguments,
                    "Error: the arguments of '\(call.name)' do not match its schema, so it was not run:\n\(result.report)"
                )
            }
        } catch {
            return refusal(call, .invalidArguments, "Error: the tool '\(call.name)' has an invalid input schema (\(error)); it cannot be called.")
        }
        if let violation = guardrails.checkToolCall(call, spec: specs[call.name]) {
            let outcome: ToolOutcome = violation.kind == .toolNotAllowed ? .notAllowed : .invalidArguments
            return refusal(call, outcome, "Error: \(violation.message)")
        }
        return nil
    }

    /// Whether `call` may start while the model is still streaming.
    func mayStartEarly(_ call: ToolCall) -> Bool {
        policy.eagerToolExecution && (tools[call.name]?.isReadOnly ?? false)
    }

    func refusal(_ call: ToolCall, _ outcome: ToolOutcome, _ message: String) -> ToolExecution {
        ToolExecution(
            result: ToolResult(toolCallID: call.id, name: call.name, content: message, isError: true),
            outcome: outcome, duration: .zero, startedEarly: false
        )
    }

    /// ``preflight(_:)``, with a refusal reported as a span and counted.
    func checked(_ call: ToolCall, parent: ServiceContext) -> ToolExecution? {
        guard let refused = preflight(call) else { return nil }
        let span = startSpan(call, parent: parent)
        finish(span, call, refused, ran: false)
        return refused
    }

    /// Counts a call that was not run because the run stopped.
    func recordNotExecuted(_ call: ToolCall) {
        metrics.recordToolCall(toolName: metricName(call), status: ToolOutcome.notExecuted.metricLabel, duration: nil)
    }

    /// Runs `call` (after ``preflight(_:)`` passed) inside its `execute_tool {name}` span, a
    /// child of `parent`. Never throws.
    func execute(_ call: ToolCall, context: ToolContext, early: Bool, parent: ServiceContext) async -> ToolExecution {
        let span = startSpan(call, parent: parent)
        if early, span.isRecording { span.attributes[GenAIAttributes.toolStartedEarly] = true }
        var ran = true
        let execution = await ServiceContext.withValue(span.context) {
            if let refused = preflight(call) {
                ran = false
                return refused
            }
            return await perform(call, context: context, early: early)
        }
        finish(span, call, execution, ran: ran)
        return execution
    }

    /// The label value of `call`'s tool: its name if the agent has it, else `unknown` (a name
    /// the model made up must not become a label).
    func metricName(_ call: ToolCall) -> String {
        tools[call.name] != nil ? call.name : "unknown"
    }

    func startSpan(_ call: ToolCall, parent: ServiceContext) -> any Span {
        let known = tools[call.name] != nil
        let span = tracer.startSpan(
            known ? "\(GenAIAttributes.Operation.executeTool) \(call.name)" : GenAIAttributes.Operation.executeTool,
            context: parent
        )
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes[GenAIAttributes.operationName] = GenAIAttributes.Operation.executeTool
                attributes[GenAIAttributes.toolName] = known ? call.name : "unknown"
                attributes[GenAIAttributes.toolCallID] = call.id
                attributes[GenAIAttributes.toolType] = "function"
            }
        }
        return span
    }

    func finish(_ span: any Span, _ call: ToolCall, _ execution: ToolExecution, ran: Bool) {
        let status = execution.outcome.metricLabel
        metrics.recordToolCall(toolName: metricName(call), status: status, duration: ran ? execution.duration : nil)
        if span.isRecording {
            span.attributes[GenAIAttributes.toolOutcome] = status
            if execution.outcome != .success {
                span.attributes[GenAIAttributes.errorType] = status
                span.setStatus(SpanStatus(code: .error, message: status))
            }
        }
        span.end()
    }

    func perform(_ call: ToolCall, context: ToolContext, early: Bool) async -> ToolExecution {
        guard let tool = tools[call.name], let arguments = call.arguments else {
            return refusal(call, .unknownTool, "Error: there is no tool named '\(call.name)'.")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let timeout = tool.timeout ?? policy.toolTimeout
        let outcome: ToolRace.Outcome
        if let timeout {
            outcome = await ToolRace.run(timeout: timeout) {
                try await tool.invoke(arguments: arguments, context: context)
            }
        } else {
            do {
                outcome = .finished(.success(try await tool.invoke(arguments: arguments, context: context)))
            } catch {
                outcome = Task.isCancelled ? .cancelled : .finished(.failure(error))
            }
        }
        let duration = clock.now - start
        var execution: ToolExecution
        switch outcome {
        case .finished(.success(let output)):
            execution = ToolExecution(
                result: ToolResult(toolCallID: call.id, name: call.name, content: output.content, isError: output.isError),
                outcome: output.isError ? .toolError : .success, duration: duration, startedEarly: early
            )
        case .finished(.failure(let error)):
            execution = ToolExecution(
                result: ToolResult(toolCallID: call.id, name: call.name, content: "Error: \(Self.describe(error))", isError: true),
                outcome: .failed, duration: duration, startedEarly: early
            )
        case .timedOut:
            execution = ToolExecution(
                result: ToolResult(
                    toolCallID: call.id, name: call.name,
                    content: "Error: '\(call.name)' did not finish within its timeout of \(timeout.map { "\($0)" } ?? "none") and was cancelled.",
                    isError: true
                ),
                outcome: .timedOut, duration: duration, startedEarly: early
            )
        case .cancelled:
            execution = ToolExecution(
                result: ToolResult(toolCallID: call.id, name: call.name, content: "Error: the call was cancelled.", isError: true),
                outcome: .cancelled, duration: duration, startedEarly: early
            )
        }
        execution.result.content = Self.capped(execution.result.content, maxBytes: policy.maxToolOutputBytes)
        return execution
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HarnessError { return e.message }
        return String(describing: error)
    }

    /// `text` cut to at most `maxBytes` UTF-8 bytes on a character boundary, with a note.
    static func capped(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var kept = String(decoding: text.utf8.prefix(maxBytes), as: UTF8.self)
        // A cut through a multi-byte character decodes as U+FFFD: drop it.
        while kept.unicodeScalars.last == "\u{FFFD}" { kept.unicodeScalars.removeLast() }
        return kept + "\n[output truncated: \(text.utf8.count) bytes, limit \(maxBytes)]"
    }
}

/// Races a tool against its timeout and the caller's cancellation.
///
/// The tool runs in its own task so that a tool which ignores cancellation cannot hold the
/// run past its timeout: the race is decided at the deadline, the tool task is cancelled
/// (and left to finish on its own if it will not stop). The deadline is a cancellable
/// Dispatch timer rather than a second task: it costs a fraction of a task's creation and
/// is cancelled as soon as the tool returns.
final class ToolRace: Sendable {
    enum Outcome: Sendable {
        case finished(Result<ToolOutput, any Error>)
        case timedOut
        case cancelled
    }

    struct State {
        var continuation: CheckedContinuation<Outcome, Never>?
        var decided: Outcome?
        var work: Task<Void, Never>?
        var timer: DeadlineTimer?
    }

    let state = Mutex(State())

    static func run(timeout: Duration, _ body: @escaping @Sendable () async throws -> ToolOutput) async -> Outcome {
        let race = ToolRace()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let operation: @Sendable () async -> Void = {
                    do {
                        race.decide(.finished(.success(try await body())))
                    } catch {
                        race.decide(Task.isCancelled ? .cancelled : .finished(.failure(error)))
                    }
                }
                // `Task.immediate` runs the tool on this thread until it first suspends: a tool
                // that returns without suspending has decided the race before any timer exists.
                let work: Task<Void, Never>
                if #available(macOS 26, iOS 26, tvOS 26, watchOS 26, visionOS 26, *) {
                    work = Task.immediate(operation: operation)
                } else {
                    work = Task(operation: operation)
                }
                let timer = DeadlineTimer { race.decide(.timedOut) }
                if race.start(continuation, work: work, timer: timer) {
                    let nanoseconds = max(0, min(timeout.nanoseconds, Int64(Int.max)))
                    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds)), execute: timer.item)
                }
            }
        } onCancel: {
            race.decide(.cancelled)
        }
    }

    /// Registers the waiter; returns whether the race is still open (so the timer must be armed).
    func start(_ continuation: CheckedContinuation<Outcome, Never>, work: Task<Void, Never>, timer: DeadlineTimer) -> Bool {
        let decided: Outcome? = state.withLock { s in
            s.work = work
            s.timer = timer
            if let d = s.decided { return d }
            s.continuation = continuation
            return nil
        }
        guard let decided else { return true }
        if case .finished = decided {} else { work.cancel() }
        continuation.resume(returning: decided)
        return false
    }

    func decide(_ outcome: Outcome) {
        let (continuation, work, timer, first) = state.withLock { s in
            if s.decided != nil {
                return (nil as CheckedContinuation<Outcome, Never>?, nil as Task<Void, Never>?, nil as DeadlineTimer?, false)
            }
            s.decided = outcome
            defer { s.continuation = nil }
            return (s.continuation, s.work, s.timer, true)
        }
        guard first else { return }
        timer?.cancel()
        if case .finished = outcome {} else { work?.cancel() }
        continuation?.resume(returning: outcome)
    }
}

/// A cancellable one-shot Dispatch timer. `DispatchWorkItem` is not marked `Sendable`, but
/// `cancel()` is atomic and the item is never mutated otherwise, hence `@unchecked`.
final class DeadlineTimer: @unchecked Sendable {
    let item: DispatchWorkItem

    init(_ fire: @escaping @Sendable () -> Void) {
        self.item = DispatchWorkItem(block: fire)
    }

    func cancel() { item.cancel() }
}

/// Trips when the same tool is called with the same arguments and gets the same result
/// `threshold` times in a run.
struct LoopDetector {
    let threshold: Int?
    private var counts: [String: Int] = [:]

    init(threshold: Int?) {
        self.threshold = threshold
    }

    /// Records a finished call; returns the count if it reached the threshold.
    mutating func record(_ call: ToolCall, _ result: ToolResult) -> Int? {
        guard let threshold else { return nil }
        let args = call.arguments?.canonicalString ?? call.rawArguments
        let key = "\(call.name)\u{0}\(args)\u{0}\(result.isError)\u{0}\(result.content)"
        let n = counts[key, default: 0] + 1
        counts[key] = n
        return n >= threshold ? n : nil
    }
}
