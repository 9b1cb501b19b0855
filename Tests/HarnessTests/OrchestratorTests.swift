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
import Synchronization
import Testing

/// Counts how many callers are inside at once and lets them through only when `target` are.
final class Barrier: Sendable {
    let target: Int
    let state = Mutex((inside: 0, maxInside: 0))

    init(target: Int) { self.target = target }

    /// Waits until `target` callers are inside together; fails after `limit` if they never are.
    func arriveAndWait(limit: Duration = .seconds(10)) async throws {
        state.withLock { $0.inside += 1; $0.maxInside = max($0.maxInside, $0.inside) }
        let deadline = ContinuousClock.now + limit
        while state.withLock({ $0.maxInside }) < target {
            guard ContinuousClock.now < deadline else { throw HarnessError(.timeout, "barrier never filled") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    var maxInside: Int { state.withLock { $0.maxInside } }
}

func call(_ id: String, _ name: String, _ args: JSONValue = [:]) -> ToolCall {
    ToolCall(id: id, name: name, arguments: args)
}

func echoTool(_ name: String = "echo", readOnly: Bool = true) -> FunctionTool {
    FunctionTool(name: name, description: "Echoes its input", isReadOnly: readOnly) { args, _ in
        ToolOutput("echo:\(args["text"]?.stringValue ?? "")")
    }
}

@Suite struct OrchestratorTests {
    let orchestrator = Orchestrator()

    @Test func textAnswerCompletesInOneIteration() async throws {
        let model = ScriptedModel([.text("Hello!")])
        let agent = Agent(name: "a", instructions: "Be kind.", model: model, modelID: "m")
        let result = try await orchestrator.run(agent, input: "Hi")
        #expect(result.finalText == "Hello!")
        #expect(result.stopReason == .completed)
        #expect(result.iterations == 1)
        #expect(result.messages.map(\.role) == [.user, .assistant])
        #expect(model.requests.first?.system == "Be kind.")
        #expect(result.timings.count == 1)
    }

    @Test func parallelToolsRunConcurrentlyAndResultsKeepCallOrder() async throws {
        let barrier = Barrier(target: 3)
        let slow = FunctionTool(name: "slow", description: "waits for the others") { args, _ in
            try await barrier.arriveAndWait()
            return ToolOutput("done-\(args["n"]?.intValue ?? -1)")
        }
        let model = ScriptedModel([
            .toolCalls([call("c1", "slow", ["n": 1]), call("c2", "slow", ["n": 2]), call("c3", "slow", ["n": 3])]),
            .text("all done"),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [slow])
        let result = try await orchestrator.run(agent, input: "go")
        // Each tool waits until all three are running at once: a sequential executor would
        // fail the barrier, so finishing proves the run took max(tool time), not the sum.
        #expect(barrier.maxInside == 3)
        #expect(result.stopReason == .completed)
        let toolMessages = result.messages.filter { $0.role == .tool }.flatMap(\.toolResults)
        #expect(toolMessages.map(\.toolCallID) == ["c1", "c2", "c3"])
        #expect(toolMessages.map(\.content) == ["done-1", "done-2", "done-3"])
        // The second request carries the results paired with their calls.
        let second = try #require(model.requests.last)
        #expect(second.messages.count == 5)
    }

    @Test func toolConcurrencyIsBounded() async throws {
        let active = Mutex((now: 0, max: 0))
        let tool = FunctionTool(name: "t", description: "") { _, _ in
            active.withLock { $0.now += 1; $0.max = max($0.max, $0.now) }
            try await Task.sleep(for: .milliseconds(5))
            active.withLock { $0.now -= 1 }
            return ToolOutput("ok")
        }
        let calls = (0..<8).map { call("c\($0)", "t", ["i": .integer($0)]) }
        let model = ScriptedModel([.toolCalls(calls), .text("done")])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [tool], policy: RunPolicy(toolConcurrency: 2))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.toolCalls.count == 8)
        #expect(active.withLock { $0.max } <= 2)
    }

    @Test func throwingAndTimedOutToolsBecomeErrorResultsAndTheRunContinues() async throws {
        struct Boom: Error {}
        let failing = FunctionTool(name: "fail", description: "") { _, _ in throw Boom() }
        let hanging = FunctionTool(name: "hang", description: "", timeout: .milliseconds(50)) { _, _ in
            // Ignores cancellation on purpose: the run must not wait for it.
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(2) { await Task.yield() }
            return ToolOutput("too late")
        }
        let model = ScriptedModel([
            .toolCalls([call("c1", "fail"), call("c2", "hang"), call("c3", "nope"), ToolCall(id: "c4", name: "fail", rawArguments: "{\"a\":")]),
            .text("recovered"),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [failing, hanging])
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.stopReason == .completed)
        #expect(result.finalText == "recovered")
        let outcomes = result.toolCalls.map(\.outcome)
        #expect(outcomes == [.failed, .timedOut, .unknownTool, .invalidArguments])
        #expect(result.toolCalls.allSatisfy { $0.result.isError })
        #expect(result.toolCalls[2].result.content.contains("no tool named 'nope'"))
        // The model saw every error result.
        let seen = try #require(model.requests.last).messages.flatMap(\.toolResults)
        #expect(seen.count == 4)
    }

    @Test func maxIterationsReturnsPartialResult() async throws {
        let model = ScriptedModel([.toolCalls([call("c", "echo", ["text": "x"])])], whenExhausted: .loop)
        // Distinct arguments each time would be needed to dodge the loop breaker; turn it off.
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()],
                          policy: RunPolicy(maxIterations: 3, loopThreshold: nil))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.stopReason == .maxIterations)
        #expect(result.iterations == 3)
        #expect(result.toolCalls.count == 3)
        #expect(result.stopDetail?.contains("3") == true)
        #expect(!result.messages.isEmpty)
    }

    @Test func maxToolCallsStopsBeforeRunningAndKeepsPairs() async throws {
        let model = ScriptedModel([
            .toolCalls([call("a", "echo", ["text": "1"])]),
            .toolCalls([call("b", "echo", ["text": "2"]), call("c", "echo", ["text": "3"])]),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()], policy: RunPolicy(maxToolCalls: 2))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.stopReason == .maxToolCalls)
        #expect(result.toolCalls.map(\.outcome) == [.success, .notExecuted, .notExecuted])
        // Every call in the history has its result.
        let callIDs = result.messages.flatMap(\.toolCalls).map(\.id)
        let resultIDs = result.messages.flatMap(\.toolResults).map(\.toolCallID)
        #expect(callIDs == resultIDs)
    }

    @Test func maxTotalTokensReturnsPartialResult() async throws {
        let model = ScriptedModel([
            .toolCalls([call("a", "echo", ["text": "1"])], usage: Usage(inputTokens: 60, outputTokens: 50)),
            .text("never"),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()], policy: RunPolicy(maxTotalTokens: 100))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.stopReason == .maxTotalTokens)
        #expect(result.usage.totalTokens == 110)
        #expect(model.callCount == 1)
    }

    @Test func maxOutputSizeTruncatesAndStops() async throws {
        let model = ScriptedModel([.text(String(repeating: "é", count: 100))])
        let agent = Agent(name: "a", model: model, modelID: "m", guardrails: try Guardrails(maxOutputBytes: 51))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.stopReason == .maxOutputSize)
        #expect(result.finalText.hasPrefix(String(repeating: "é", count: 25)))
        #expect(result.finalText.contains("truncated"))
    }

    @Test func maxToolDepthStopsNestedAgents() async throws {
        // An agent whose tool is itself: each level asks the next one, until the depth limit.
        let policy = RunPolicy(maxToolDepth: 2)
        let leafModel = ScriptedModel([.toolCalls([call("deep", "inner", ["input": "again"])]), .text("done")], whenExhausted: .loop)
        let inner = Agent(name: "inner", model: leafModel, modelID: "m", policy: policy)
        var recursive = inner
        recursive.tools = [AgentTool(agent: inner, orchestrator: orchestrator)]
        let levelModel = ScriptedModel([.toolCalls([call("d", "inner", ["input": "go"])]), .text("top done")], whenExhausted: .loop)
        let top = Agent(name: "top", model: levelModel, modelID: "m", tools: [AgentTool(agent: recursive, orchestrator: orchestrator, name: "inner")], policy: policy)
        let result = try await orchestrator.run(top, input: "go")
        #expect(result.stopReason == .completed)
        // And a run started too deep returns at once with the reason.
        let deep = try await orchestrator.run(inner, input: "x", options: RunOptions(depth: 3))
        #expect(deep.stopReason == .maxToolDepth)
        #expect(deep.iterations == 0)
    }

    @Test func guardrailsBlockInputAndOutput() async throws {
        let guardrails = try Guardrails(blockedWords: ["password"], blockedPatterns: [#"sk-[a-z0-9]{8,}"#])
        let model = ScriptedModel([.text("your key is sk-abcdefgh1234")])
        let agent = Agent(name: "a", model: model, modelID: "m", guardrails: guardrails)
        let blockedIn = try await orchestrator.run(agent, input: "What is my PASSWORD?")
        #expect(blockedIn.stopReason == .guardrail)
        #expect(model.callCount == 0)
        let blockedOut = try await orchestrator.run(agent, input: "What is my key?")
        #expect(blockedOut.stopReason == .guardrail)
        #expect(!blockedOut.finalText.contains("sk-"))
        #expect(!blockedOut.messages.contains { $0.text.contains("sk-abc") })
    }

    @Test func toolAllowlistRefusesOtherTools() async throws {
        let model = ScriptedModel([.toolCalls([call("a", "echo", ["text": "1"]), call("b", "danger")]), .text("ok")])
        let danger = FunctionTool(name: "danger", description: "") { _, _ in Issue.record("danger ran"); return ToolOutput("") }
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool(), danger],
                          guardrails: try Guardrails(allowedTools: ["echo"]))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.toolCalls.map(\.outcome) == [.success, .notAllowed])
    }

    @Test func repeatedIdenticalCallTripsTheLoopBreaker() async throws {
        let model = ScriptedModel(
            [.toolCalls([call("x", "echo", ["text": "same"])]), .toolCalls([call("y", "echo", ["text": "same"])]),
             .toolCalls([call("z", "echo", ["text": "same"])]), .text("I was looping; here is what I have.")]
        )
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()], policy: RunPolicy(loopThreshold: 3))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.stopReason == .loopDetected)
        #expect(result.toolCalls.count == 3)
        #expect(result.finalText == "I was looping; here is what I have.")
        // The model was told, and its last call had tools turned off.
        let last = try #require(model.requests.last)
        #expect(last.toolChoice == ToolChoice.none)
        #expect(last.messages.flatMap(\.toolResults).last?.content.contains("Loop detected") == true)
    }

    @Test func differentArgumentsDoNotTripTheLoopBreaker() async throws {
        let model = ScriptedModel(
            (0..<4).map { .toolCalls([call("c\($0)", "echo", ["text": .string("v\($0)")])]) } + [.text("fine")]
        )
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()], policy: RunPolicy(loopThreshold: 2))
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.stopReason == .completed)
    }

    @Test func streamStartsReadOnlyToolBeforeTheTurnEnds() async throws {
        let started = Mutex<ContinuousClock.Instant?>(nil)
        let probe = FunctionTool(name: "probe", description: "", isReadOnly: true) { _, _ in
            started.withLock { $0 = ContinuousClock.now }
            return ToolOutput("probed")
        }
        // The turn: the call, then a long tail of text deltas, 20 ms apart.
        var response = ModelResponse(
            message: Message(role: .assistant, content: [.toolCall(call("p", "probe", ["q": 1])), .text(String(repeating: "x", count: 10))]),
            finishReason: .toolCalls
        )
        response.usage = Usage(inputTokens: 1, outputTokens: 1)
        let model = ScriptedModel([
            ScriptedModel.Step(response: response, chunkSize: 1, delayPerEvent: .milliseconds(20)),
            .text("done"),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [probe])
        var order: [String] = []
        var result: RunResult?
        var turnEnded: ContinuousClock.Instant?
        for try await event in orchestrator.stream(agent, input: "go") {
            switch event {
            case .toolCallStarted: order.append("call-started")
            case .toolExecutionStarted(_, let early): order.append(early ? "exec-early" : "exec")
            case .toolResult: order.append("result")
            case .modelResponse:
                order.append("turn-ended")
                if turnEnded == nil { turnEnded = ContinuousClock.now }
            case .finished(let r): result = r
            default: break
            }
        }
        let firstTurnEnd = try #require(order.firstIndex(of: "turn-ended"))
        let execIndex = try #require(order.firstIndex(of: "exec-early"))
        // The tool started while the model was still streaming its turn (ten more deltas,
        // 20 ms apart, followed the call).
        #expect(execIndex < firstTurnEnd)
        let toolStart = try #require(started.withLock { $0 })
        let turnEnd = try #require(turnEnded)
        #expect(toolStart < turnEnd)
        #expect(result?.toolCalls.first?.startedEarly == true)
        #expect(result?.finalText == "done")
    }

    @Test func streamSurfacesToolCallNamesAndArgumentPreviews() async throws {
        let model = ScriptedModel([
            .toolCalls([call("c1", "echo", ["text": "hello world"])], chunkSize: 4),
            .text("finished", chunkSize: 3),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool(readOnly: false)])
        var previews: [JSONValue] = []
        var text = ""
        var sawStartBeforeArgs = false
        var sawStart = false
        for try await event in orchestrator.stream(agent, input: "go") {
            switch event {
            case .toolCallStarted(let id, let name):
                #expect(id == "c1" && name == "echo")
                sawStart = true
            case .toolCallArgumentsDelta(_, _, let preview):
                if sawStart { sawStartBeforeArgs = true }
                if let preview { previews.append(preview) }
            case .textDelta(let t): text += t
            default: break
            }
        }
        #expect(sawStartBeforeArgs)
        #expect(previews.count > 2)
        #expect(previews.last == ["text": "hello world"])
        #expect(text == "finished")
    }

    @Test func truncatedToolCallIsNeverRun() async throws {
        let ran = Mutex(false)
        let tool = FunctionTool(name: "danger", description: "", isReadOnly: true) { _, _ in
            ran.withLock { $0 = true }
            return ToolOutput("ran")
        }
        let full = ModelResponse(
            message: .assistant("", toolCalls: [call("c1", "danger", ["path": "/important", "force": true])]),
            finishReason: .toolCalls
        )
        // Break the stream in the middle of the arguments: start + 2 argument deltas, no completion.
        let model = ScriptedModel([ScriptedModel.Step(response: full, chunkSize: 5, breakAfterEvents: 3)])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [tool])
        await #expect(throws: RunError.self) {
            for try await _ in orchestrator.stream(agent, input: "go") {}
        }
        #expect(ran.withLock { $0 } == false)

        // A call that completes with cut-off argument text is refused, not run with guesses.
        let cutOff = ModelResponse(
            message: .assistant("", toolCalls: [ToolCall(id: "c2", name: "danger", rawArguments: "{\"path\": \"/imp")]),
            finishReason: .length
        )
        let model2 = ScriptedModel([ScriptedModel.Step(response: cutOff), .text("ok")])
        let agent2 = Agent(name: "a", model: model2, modelID: "m", tools: [tool])
        let result = try await orchestrator.run(agent2, input: "go")
        #expect(result.toolCalls.first?.outcome == .invalidArguments)
        #expect(ran.withLock { $0 } == false)
    }

    @Test func modelErrorThrowsRunErrorWithPartialResult() async throws {
        let model = ScriptedModel([.toolCalls([call("a", "echo", ["text": "1"])]), .failure(HarnessError(.modelError, "upstream 500"))])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()])
        do {
            _ = try await orchestrator.run(agent, input: "go")
            Issue.record("expected a RunError")
        } catch let error as RunError {
            #expect(error.code == .modelError)
            #expect(error.partial.stopReason == .failed)
            #expect(error.partial.toolCalls.count == 1)
            #expect(error.partial.messages.count == 3)
        }
    }

    @Test func cancellationReachesTools() async throws {
        let cancelled = Mutex(false)
        let started = Mutex(false)
        let tool = FunctionTool(name: "wait", description: "") { _, _ in
            started.withLock { $0 = true }
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                cancelled.withLock { $0 = true }
                throw error
            }
            return ToolOutput("late")
        }
        let model = ScriptedModel([.toolCalls([call("w", "wait")]), .text("never")])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [tool])
        let task = Task { try await orchestrator.run(agent, input: "go") }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        task.cancel()
        let outcome = await task.result
        guard case .failure(let error) = outcome, let runError = error as? RunError else {
            Issue.record("expected a RunError, got \(outcome)")
            return
        }
        #expect(runError.code == .cancelled)
        // The tool's own sleep saw the cancellation.
        try await Task.sleep(for: .milliseconds(50))
        #expect(cancelled.withLock { $0 })
        #expect(model.callCount == 1)
    }

    @Test func everyTurnIsStoredAsItHappens() async throws {
        let store = InMemoryConversationStore()
        let orchestrator = Orchestrator(configuration: .init(conversationStore: store))
        let model = ScriptedModel([.toolCalls([call("a", "echo", ["text": "1"]), call("b", "echo", ["text": "2"])]), .text("done"), .text("second answer")])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()])
        let options = RunOptions(conversationID: "conv", tenant: "t")
        _ = try await orchestrator.run(agent, input: "first", options: options)
        let turns = try await store.load(conversationID: "conv", tenant: "t", last: nil)
        #expect(turns.map(\.message.role) == [.user, .assistant, .tool, .tool, .assistant])
        #expect(turns[1].usage != nil && turns[1].model == "m")
        // The next run continues from the stored history.
        _ = try await orchestrator.run(agent, input: "again", options: options)
        #expect(model.requests.last?.messages.count == 6)
        #expect(try await store.load(conversationID: "conv", tenant: "t", last: nil).count == 7)
    }

    @Test func responseCacheAnswersTheSameQuestionOnly() async throws {
        let orchestrator = Orchestrator(configuration: .init(responseCache: ResponseCache(storage: InMemoryCache())))
        let model = ScriptedModel([.text("one"), .text("two")])
        let agent = Agent(name: "a", model: model, modelID: "m")
        let first = try await orchestrator.run(agent, input: "question A")
        let again = try await orchestrator.run(agent, input: "question A")
        let other = try await orchestrator.run(agent, input: "question B")
        #expect(first.finalText == "one")
        #expect(again.finalText == "one" && again.cacheHits == 1)
        #expect(other.finalText == "two" && other.cacheHits == 0)
        #expect(model.callCount == 2)
    }

    @Test func textWrittenToolCallsAreParsedAndRun() async throws {
        let model = ScriptedModel([.text("<tool_call>{\"name\": \"echo\", \"arguments\": {\"text\": \"hi\"}}</tool_call>"), .text("done")])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [echoTool()])
        let result = try await orchestrator.run(agent, input: "go")
        #expect(result.toolCalls.first?.result.content == "echo:hi")
        #expect(result.finalText == "done")
    }

    @Test func timingSplitsModelToolsAndOverhead() async throws {
        let tool = FunctionTool(name: "nap", description: "") { _, _ in
            try await Task.sleep(for: .milliseconds(20))
            return ToolOutput("rested")
        }
        let model = ScriptedModel([.toolCalls([call("n", "nap")]), .text("ok")])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [tool])
        let result = try await orchestrator.run(agent, input: "go")
        let first = try #require(result.timings.first)
        #expect(first.tools >= .milliseconds(20))
        #expect(first.total == first.model + first.tools + first.overhead)
        #expect(result.toolCalls[0].duration >= .milliseconds(20))
    }
}
