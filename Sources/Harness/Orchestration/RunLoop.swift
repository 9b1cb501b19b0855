//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import Instrumentation
import Logging
import Tracing
import struct Foundation.Date
import struct Foundation.UUID

/// The state of one run. Used by one task only (not shared), hence a plain class.
final class RunLoop {
    typealias Emit = @Sendable (RunEvent) -> Void

    let agent: Agent
    let configuration: Orchestrator.Configuration
    let options: RunOptions
    let emit: Emit?
    let executor: ToolExecutor
    let builder: PromptBuilder
    let textParser: OutputParser
    let runID: String
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant

    /// Everything the model sees: stored history, then this run's messages.
    var history: [Message] = []
    /// This run's messages only.
    var messages: [Message] = []
    var records: [ToolCallRecord] = []
    var usage = Usage.zero
    var iterations = 0
    var timings: [IterationTiming] = []
    var finalText = ""
    var cacheHits = 0
    var toolCallsExecuted = 0
    var loopDetector: LoopDetector
    let callReports = CallReportCollector()
    /// Telemetry: the tracer (read once per run), the run's logger, the current iteration's span.
    let tracer: any Tracer
    let metrics: HarnessMetrics
    let logger: RunLogger
    var iterationSpan: (any Span)?
    var iterationContext: ServiceContext = .topLevel

    init(agent: Agent, configuration: Orchestrator.Configuration, options: RunOptions, emit: Emit?) {
        self.agent = agent
        self.configuration = configuration
        self.options = options
        self.emit = emit
        self.tracer = configuration.observability.tracer
        // Resolved once per run: the process-wide systems are read under a lock.
        self.metrics = HarnessMetrics(factory: configuration.observability.metrics.factory)
        self.executor = ToolExecutor(
            tools: agent.tools, policy: agent.policy, guardrails: agent.guardrails,
            tracer: tracer, metrics: metrics
        )
        self.builder = PromptBuilder(
            model: agent.modelID, system: agent.instructions, tools: agent.tools.map(\.spec),
            toolChoice: agent.toolChoice, responseFormat: agent.responseFormat, options: agent.options
        )
        self.textParser = OutputParser(knownTools: Set(agent.tools.map(\.name)))
        self.runID = options.runID ?? "run_" + UUID().uuidString.lowercased()
        self.loopDetector = LoopDetector(threshold: agent.policy.loopThreshold)
        self.start = clock.now
        self.logger = RunLogger(base: configuration.logger, runID: runID, agentName: agent.name)
    }

    // MARK: - The loop

    func run(input: [Message]) async throws -> RunResult {
        try await observedRun { try await self.runLoop(input: input) }
    }

    func runLoop(input: [Message]) async throws -> RunResult {
        let policy = agent.policy
        if options.depth > policy.maxToolDepth {
            return result(.maxToolDepth, "run nested \(options.depth) deep; the limit is \(policy.maxToolDepth)")
        }
        if let store = configuration.conversationStore, let id = options.conversationID {
            do {
                history = try await observedStoreCall("load", store) {
                    try await store.load(conversationID: id, tenant: options.tenant, last: configuration.historyLimit)
                }.map(\.message)
            } catch {
                throw failure(.storage, "could not load conversation '\(id)'", error)
            }
        }
        for message in input where message.role == .user {
            if let violation = agent.guardrails.checkInput(message.text) {
                emit?(.notice(violation.description))
                return result(.guardrail, violation.description)
            }
        }
        for message in input { try await append(message) }

        while true {
            if iterations >= policy.maxIterations {
                return result(.maxIterations, "reached the limit of \(policy.maxIterations) model calls")
            }
            if Task.isCancelled { throw failure(.cancelled, "the run was cancelled", CancellationError()) }
            iterations += 1
            let iteration = iterations
            emit?(.iterationStarted(iteration))
            let iterationStart = clock.now
            let span = startIterationSpan(iteration)

            // Model phase (with early tool starts) and tool phase share one task group, so that
            // tools started early are joined, or cancelled, with the others.
            let outcome = await ServiceContext.withValue(span.context) {
                await withTaskGroup(of: (Int, ToolExecution).self) { group in
                    do {
                        return Result<IterationOutcome, any Error>.success(
                            try await self.iterate(iteration, group: &group, iterationStart: iterationStart)
                        )
                    } catch {
                        group.cancelAll()
                        return .failure(error)
                    }
                }
            }
            endIterationSpan(span, outcome)
            switch try outcome.get() {
            case .continue:
                continue
            case .stop(let reason, let detail):
                return result(reason, detail)
            }
        }
    }

    enum IterationOutcome {
        case `continue`
        case stop(StopReason, String?)
    }

    /// One model call and the tool calls it asks for.
    func iterate(
        _ iteration: Int,
        group: inout TaskGroup<(Int, ToolExecution)>,
        iterationStart: ContinuousClock.Instant
    ) async throws -> IterationOutcome {
        let policy = agent.policy
        let request = makeRequest()

        // Model phase.
        var early: [String: Int] = [:]  // call id -> position among this turn's calls
        let modelStart = clock.now
        var (response, cacheHit) = try await callModel(request, iteration: iteration, group: &group, early: &early)
        let modelTime = clock.now - modelStart
        usage += response.usage
        if cacheHit { cacheHits += 1 }

        // Tool calls written as text, for models without native tool calling.
        if response.message.toolCalls.isEmpty, agent.parsesToolCallsInText, !agent.tools.isEmpty {
            let found = textParser.toolCalls(in: response.message.text)
            if !found.isEmpty {
                response.message = .assistant("", toolCalls: found)
                response.finishReason = .toolCalls
            }
        }
        emit?(.modelResponse(response, cacheHit: cacheHit))
        let text = response.message.text
        let calls = response.message.toolCalls

        // Output guardrails.
        if let violation = agent.guardrails.checkOutput(text) {
            group.cancelAll()
            emit?(.notice(violation.description))
            if violation.kind == .outputTooLarge, let limit = agent.guardrails.maxOutputBytes {
                let kept = ToolExecutor.capped(text, maxBytes: limit)
                try await append(.assistant(kept), usage: response.usage)
                finalText = kept
                record(iteration, iterationStart, model: modelTime, tools: .zero, cacheHit: cacheHit)
                return .stop(.maxOutputSize, violation.message)
            }
            record(iteration, iterationStart, model: modelTime, tools: .zero, cacheHit: cacheHit)
            return .stop(.guardrail, violation.description)
        }

        try await append(response.message, usage: response.usage)
        if !text.isEmpty { finalText = text }
        if calls.isEmpty {
            record(iteration, iterationStart, model: modelTime, tools: .zero, cacheHit: cacheHit)
            return .stop(.completed, nil)
        }

        // Limits that stop the run before its tools run. The calls get "not executed"
        // results so that the stored history keeps every call paired with a result.
        var stop: (StopReason, String)? = nil
        if let limit = policy.maxTotalTokens, usage.totalTokens >= limit {
            stop = (.maxTotalTokens, "used \(usage.totalTokens) tokens; the limit is \(limit)")
        } else if let limit = policy.maxToolCalls, toolCallsExecuted + calls.count > limit {
            stop = (.maxToolCalls, "\(toolCallsExecuted + calls.count) tool calls would exceed the limit of \(limit)")
        }
        if let (reason, detail) = stop {
            group.cancelAll()
            try await appendNotExecuted(calls, iteration: iteration, because: detail)
            record(iteration, iterationStart, model: modelTime, tools: .zero, cacheHit: cacheHit)
            return .stop(reason, detail)
        }

        // Tool phase.
        let toolStart = clock.now
        var executions = [ToolExecution?](repeating: nil, count: calls.count)
        var inFlight = early.count
        var next = 0
        func startNext(_ group: inout TaskGroup<(Int, ToolExecution)>) {
            while next < calls.count, inFlight < policy.toolConcurrency {
                let index = next
                next += 1
                if early[calls[index].id] != nil { continue }
                let call = calls[index]
                if let refused = executor.checked(call, parent: iterationContext) {
                    executions[index] = refused
                    emit?(.toolResult(makeRecord(call, refused, iteration)))
                    continue
                }
                inFlight += 1
                emit?(.toolExecutionStarted(call, early: false))
                let executor = self.executor
                let context = toolContext(call)
                let parent = iterationContext
                group.addTask { (index, await executor.execute(call, context: context, early: false, parent: parent)) }
            }
        }
        // Early-started calls were numbered by arrival; map them to their place in `calls`.
        var earlyIndex: [Int: Int] = [:]
        for (i, call) in calls.enumerated() { if let e = early[call.id] { earlyIndex[e] = i } }
        if calls.count == 1, early.isEmpty {
            // One call and nothing started early: run it here, without a child task.
            let call = calls[0]
            if let refused = executor.checked(call, parent: iterationContext) {
                executions[0] = refused
                emit?(.toolResult(makeRecord(call, refused, iteration)))
            } else {
                emit?(.toolExecutionStarted(call, early: false))
                let execution = await executor.execute(
                    call, context: toolContext(call), early: false, parent: iterationContext
                )
                executions[0] = execution
                emit?(.toolResult(makeRecord(call, execution, iteration)))
            }
            next = 1
        }
        startNext(&group)
        while let (tag, execution) = await group.next() {
            let index: Int
            if tag < 0 {
                guard let mapped = earlyIndex[-tag - 1] else { continue }
                index = mapped
            } else {
                index = tag
            }
            inFlight -= 1
            executions[index] = execution
            emit?(.toolResult(makeRecord(calls[index], execution, iteration)))
            startNext(&group)
        }
        let toolTime = clock.now - toolStart
        if Task.isCancelled { throw failure(.cancelled, "the run was cancelled", CancellationError()) }

        // Results go back in call order, paired by id; the loop breaker looks at each.
        var tripped: (String, Int)? = nil
        for (index, call) in calls.enumerated() {
            guard var execution = executions[index] else { continue }
            if execution.outcome != .notExecuted && execution.outcome != .unknownTool { toolCallsExecuted += 1 }
            if let count = loopDetector.record(call, execution.result) {
                tripped = (call.name, count)
                execution.result.content += "\n\n[harness] Loop detected: '\(call.name)' was called \(count) times with the same arguments and returned the same result. Do not call it again; answer with what you have."
            }
            records.append(makeRecord(call, execution, iteration))
            try await append(.tool(execution.result))
        }
        record(iteration, iterationStart, model: modelTime, tools: toolTime, cacheHit: cacheHit)

        if let (name, count) = tripped {
            let detail = "'\(name)' returned the same result for the same arguments \(count) times"
            emit?(.notice("loop detected: \(detail)"))
            try await finalTurnWithoutTools(afterLoop: detail)
            return .stop(.loopDetected, detail)
        }
        return .continue
    }

    /// After the loop breaker trips: one last model call, tools off, so the model can say
    /// what it has; then the run stops.
    func finalTurnWithoutTools(afterLoop detail: String) async throws {
        guard iterations < agent.policy.maxIterations else { return }
        iterations += 1
        let iterationStart = clock.now
        emit?(.iterationStarted(iterations))
        let span = startIterationSpan(iterations)
        defer { span.end() }
        var request = makeRequest()
        request.toolChoice = .none
        let response: ModelResponse
        do {
            response = try await ServiceContext.withValue(span.context) {
                try await observedModelCall(request) { try await agent.model.complete(request) }
            }
        } catch {
            span.setStatus(SpanStatus(code: .error))
            throw failure(.modelError, "the model failed", error)
        }
        let modelTime = clock.now - iterationStart
        usage += response.usage
        emit?(.modelResponse(response, cacheHit: false))
        if !response.message.text.isEmpty, emit != nil { emit?(.textDelta(response.message.text)) }
        try await append(response.message, usage: response.usage)
        if !response.message.text.isEmpty { finalText = response.message.text }
        let calls = response.message.toolCalls
        if !calls.isEmpty { try await appendNotExecuted(calls, iteration: iterations, because: "loop detected: \(detail)") }
        record(iterations, iterationStart, model: modelTime, tools: .zero, cacheHit: false)
    }

    // MARK: - Model calls

    func makeRequest() -> ModelRequest {
        if let assembler = configuration.contextAssembler {
            let packed = assembler.assemble(system: agent.instructions, history: history, snippets: options.snippets)
            return builder.build(history: packed.history, snippets: packed.snippets, metadata: options.metadata)
        }
        return builder.build(history: history, snippets: options.snippets, metadata: options.metadata)
    }

    /// Calls the model (or the cache), streaming when events are wanted; starts read-only
    /// tools early while streaming.
    func callModel(
        _ request: ModelRequest,
        iteration: Int,
        group: inout TaskGroup<(Int, ToolExecution)>,
        early: inout [String: Int]
    ) async throws -> (ModelResponse, Bool) {
        if let limiter = configuration.rateLimiter {
            do {
                try await limiter.acquire(key: agent.name, cost: 1)
            } catch let error as HarnessError {
                throw failure(error.code, error.message, error)
            } catch {
                throw failure(.rateLimited, "the rate limiter failed", error)
            }
        }
        if let cache = configuration.responseCache, let cached = await observedCacheLookup(cache, request) {
            if emit != nil {
                var arguments: [String: String] = [:]
                for event in cached.streamEvents() { forward(event, arguments: &arguments) }
            }
            return (cached, true)
        }
        let response = try await observedModelCall(request) {
            if emit == nil {
                do {
                    return try await agent.model.complete(request)
                } catch {
                    throw failure(
                        Task.isCancelled ? .cancelled : .modelError, "the model failed: \(ToolExecutor.describe(error))", error
                    )
                }
            } else {
                return try await consumeStream(request, iteration: iteration, group: &group, early: &early)
            }
        }
        if let cache = configuration.responseCache { await cache.set(request, response) }
        return (response, false)
    }

    func consumeStream(
        _ request: ModelRequest,
        iteration: Int,
        group: inout TaskGroup<(Int, ToolExecution)>,
        early: inout [String: Int]
    ) async throws -> ModelResponse {
        var accumulator = ModelStreamAccumulator()
        var arguments: [String: String] = [:]
        var earlyCount = 0
        do {
            for try await event in agent.model.stream(request) {
                accumulator.add(event)
                forward(event, arguments: &arguments)
                if case .toolCallComplete(let call) = event, executor.mayStartEarly(call),
                    earlyCount < agent.policy.toolConcurrency, executor.preflight(call) == nil
                {
                    // The arguments are complete and valid: start now, before the turn ends.
                    let tag = -(earlyCount + 1)
                    early[call.id] = earlyCount
                    earlyCount += 1
                    emit?(.toolExecutionStarted(call, early: true))
                    let executor = self.executor
                    let context = toolContext(call)
                    let parent = iterationContext
                    group.addTask { (tag, await executor.execute(call, context: context, early: true, parent: parent)) }
                }
            }
        } catch {
            group.cancelAll()
            let partialText = accumulator.text
            if !partialText.isEmpty { finalText = partialText }
            throw failure(
                Task.isCancelled ? .cancelled : .modelError,
                "the model's stream broke: \(ToolExecutor.describe(error))", error
            )
        }
        if let id = accumulator.incompleteToolCallIDs.first {
            group.cancelAll()
            throw failure(.modelError, "the model's stream ended before tool call '\(id)' was complete; it was not run", HarnessError(.modelError, "incomplete tool call"))
        }
        guard accumulator.finishReason != nil else {
            group.cancelAll()
            if !accumulator.text.isEmpty { finalText = accumulator.text }
            throw failure(.modelError, "the model's stream ended without a finish event", HarnessError(.modelError, "no finish event"))
        }
        var response = accumulator.response
        response.model = response.model ?? request.model
        return response
    }

    /// Passes a model event on as run events.
    func forward(_ event: ModelStreamEvent, arguments: inout [String: String]) {
        guard let emit else { return }
        switch event {
        case .textDelta(let t): emit(.textDelta(t))
        case .toolCallStart(let id, let name): emit(.toolCallStarted(id: id, name: name))
        case .toolCallArgumentsDelta(let id, let delta):
            var preview: JSONValue? = nil
            if configuration.argumentPreviews {
                let text = arguments[id, default: ""] + delta
                arguments[id] = text
                preview = LenientJSONReader.partial(text)
            }
            emit(.toolCallArgumentsDelta(id: id, delta: delta, preview: preview))
        case .toolCallComplete(let call): emit(.toolCallReady(call))
        case .seam(let seam): emit(.notice("the model's stream broke (\(seam.reason)) and was resumed"))
        case .usage, .finish: break
        }
    }

    // MARK: - Bookkeeping

    func toolContext(_ call: ToolCall) -> ToolContext {
        ToolContext(
            runID: runID, toolCallID: call.id, conversationID: options.conversationID,
            depth: options.depth, metadata: options.metadata
        )
    }

    func makeRecord(_ call: ToolCall, _ execution: ToolExecution, _ iteration: Int) -> ToolCallRecord {
        ToolCallRecord(
            call: call, result: execution.result, outcome: execution.outcome, duration: execution.duration,
            iteration: iteration, startedEarly: execution.startedEarly
        )
    }

    func appendNotExecuted(_ calls: [ToolCall], iteration: Int, because reason: String) async throws {
        for call in calls {
            let execution = ToolExecution(
                result: ToolResult(
                    toolCallID: call.id, name: call.name,
                    content: "Not executed: the run stopped (\(reason)).", isError: true
                ),
                outcome: .notExecuted, duration: .zero, startedEarly: false
            )
            executor.recordNotExecuted(call)
            records.append(makeRecord(call, execution, iteration))
            try await append(.tool(execution.result))
        }
    }

    /// Adds `message` to the run and stores it at once.
    func append(_ message: Message, usage: Usage? = nil) async throws {
        history.append(message)
        messages.append(message)
        guard let store = configuration.conversationStore, let id = options.conversationID else { return }
        let turn = Turn(
            message: message,
            model: message.role == .assistant ? agent.modelID : nil,
            usage: usage,
            createdAt: Date(),
            metadata: ["run_id": runID]
        )
        do {
            try await observedStoreCall("append", store) { try await store.append(turn, to: id, tenant: options.tenant) }
        } catch {
            throw failure(.storage, "could not store a \(message.role.rawValue) turn of conversation '\(id)'", error)
        }
    }

    func record(
        _ iteration: Int,
        _ iterationStart: ContinuousClock.Instant,
        model: Duration,
        tools: Duration,
        cacheHit: Bool
    ) {
        let total = clock.now - iterationStart
        timings.append(
            IterationTiming(
                iteration: iteration, model: model, tools: tools, overhead: total - model - tools,
                total: total, cacheHit: cacheHit
            )
        )
    }

    func result(_ reason: StopReason, _ detail: String?) -> RunResult {
        RunResult(
            runID: runID, finalText: finalText, messages: messages, toolCalls: records, usage: usage,
            iterations: iterations, stopReason: reason, stopDetail: detail, timings: timings,
            cacheHits: cacheHits, duration: clock.now - start, callReports: callReports.reports
        )
    }

    func failure(_ code: HarnessError.Code, _ message: String, _ underlying: any Error) -> RunError {
        let reason: StopReason = code == .cancelled ? .cancelled : .failed
        return RunError(code: code, message: message, underlying: underlying, partial: result(reason, message))
    }
}
