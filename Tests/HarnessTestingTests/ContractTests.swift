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
import Testing

@Suite struct ContractTests {
    @Test func inMemoryConversationStoreKeepsTheContract() async throws {
        try await ConversationStoreContract.run { InMemoryConversationStore() }
    }
}

@Suite struct ScriptedModelTests {
    let request = ModelRequest(model: "test-model", messages: [.user("hi")])

    /// Every event of `model`'s stream for `request`, and the error that ended it, if any.
    func collect(_ model: ScriptedModel, _ request: ModelRequest) async -> (events: [ModelStreamEvent], error: (any Error)?) {
        var events: [ModelStreamEvent] = []
        do {
            for try await event in model.stream(request) { events.append(event) }
            return (events, nil)
        } catch {
            return (events, error)
        }
    }

    @Test func playsStepsInOrder() async throws {
        let call = ToolCall(id: "c1", name: "f", arguments: ["x": 1])
        let model = ScriptedModel([.text("first"), .toolCalls([call], text: "calling"), .text("third")])
        let first = try await model.complete(request)
        let second = try await model.complete(request)
        let third = try await model.complete(request)
        #expect(first.message.text == "first")
        #expect(first.finishReason == .stop)
        #expect(first.model == "test-model")
        #expect(second.message.text == "calling")
        #expect(second.message.toolCalls == [call])
        #expect(second.finishReason == .toolCalls)
        #expect(third.message.text == "third")
        #expect(model.callCount == 3)
        #expect(model.providerName == "scripted")
    }

    @Test func streamsTextInChunksThatJoinToTheText() async throws {
        let text = "The quick brown fox jumps over the lazy dog. \u{1F98A}"
        let model = ScriptedModel([.text(text, chunkSize: 4)])
        let (events, error) = await collect(model, request)
        #expect(error == nil)
        var deltas: [String] = []
        for event in events {
            if case .textDelta(let delta) = event { deltas.append(delta) }
        }
        #expect(deltas.count == (text.count + 3) / 4)
        #expect(deltas.joined() == text)
        #expect(deltas.dropLast().allSatisfy { $0.count == 4 })
        #expect(events.last == .finish(.stop, requestID: nil))
    }

    @Test func streamsToolCallArgumentsInChunksAndCompletesTheCall() async throws {
        let call = ToolCall(id: "c1", name: "get_weather", arguments: ["city": "Paris", "days": 3])
        let model = ScriptedModel([.toolCalls([call], text: "Let me look.", chunkSize: 5)])
        let (events, error) = await collect(model, request)
        #expect(error == nil)
        var argumentText = ""
        var accumulator = ModelStreamAccumulator()
        for event in events {
            if case .toolCallArgumentsDelta(let id, let delta) = event {
                #expect(id == "c1")
                argumentText += delta
            }
            accumulator.add(event)
        }
        #expect(argumentText == call.rawArguments)
        #expect(accumulator.toolCalls == [call])
        #expect(accumulator.text == "Let me look.")
        #expect(accumulator.incompleteToolCallIDs.isEmpty)
        #expect(accumulator.finishReason == .toolCalls)
    }

    @Test func breakAfterEventsThrowsAfterThatManyEvents() async throws {
        let response = ModelResponse(message: .assistant("abcdefghij"), finishReason: .stop)
        let model = ScriptedModel([ScriptedModel.Step(response: response, chunkSize: 2, breakAfterEvents: 3)])
        let (events, error) = await collect(model, request)
        #expect(events == [.textDelta("ab"), .textDelta("cd"), .textDelta("ef")])
        #expect((error as? HarnessError)?.code == .modelError)
    }

    @Test func breakInsideAToolCallLeavesItIncomplete() async throws {
        let call = ToolCall(id: "c1", name: "delete", arguments: ["path": "/important", "force": true])
        let response = ModelResponse(message: .assistant("", toolCalls: [call]), finishReason: .toolCalls)
        // The start and two argument pieces, then the connection drops.
        let model = ScriptedModel([ScriptedModel.Step(response: response, chunkSize: 5, breakAfterEvents: 3)])
        let (events, error) = await collect(model, request)
        #expect(events.count == 3)
        #expect(error != nil)
        var accumulator = ModelStreamAccumulator()
        for event in events { accumulator.add(event) }
        #expect(accumulator.toolCalls.isEmpty)
        #expect(accumulator.incompleteToolCallIDs == ["c1"])
    }

    @Test func delayedEventsArriveInOrder() async throws {
        let text = "slow and steady"
        let response = ModelResponse(message: .assistant(text), finishReason: .stop)
        let model = ScriptedModel([
            ScriptedModel.Step(response: response, chunkSize: 3, delayPerEvent: .milliseconds(1)),
            ScriptedModel.Step(response: response, chunkSize: 3, delayPerEvent: .milliseconds(1), breakAfterEvents: 2),
        ])
        let (events, error) = await collect(model, request)
        #expect(error == nil)
        var joined = ""
        for event in events {
            if case .textDelta(let delta) = event { joined += delta }
        }
        #expect(joined == text)
        #expect(events.last == .finish(.stop, requestID: nil))

        let (broken, brokenError) = await collect(model, request)
        #expect(broken == [.textDelta("slo"), .textDelta("w a")])
        #expect((brokenError as? HarnessError)?.code == .modelError)
    }

    @Test func failExhaustionThrows() async throws {
        let model = ScriptedModel([.text("only")])
        #expect(try await model.complete(request).message.text == "only")
        let error = await #expect(throws: HarnessError.self) { try await model.complete(request) }
        #expect(error?.code == .modelError)
        // Streaming past the end fails too.
        let (events, streamError) = await collect(model, request)
        #expect(events.isEmpty)
        #expect((streamError as? HarnessError)?.code == .modelError)
    }

    @Test func emptyScriptAlwaysThrows() async {
        for exhaustion in [ScriptedModel.Exhaustion.fail, .loop, .repeatLast] {
            let model = ScriptedModel([], whenExhausted: exhaustion)
            await #expect(throws: HarnessError.self) { try await model.complete(request) }
        }
    }

    @Test func loopExhaustionStartsAgain() async throws {
        let model = ScriptedModel([.text("a"), .text("b")], whenExhausted: .loop)
        var texts: [String] = []
        for _ in 0..<5 { texts.append(try await model.complete(request).message.text) }
        #expect(texts == ["a", "b", "a", "b", "a"])
    }

    @Test func repeatLastExhaustionRepeatsTheLastStep() async throws {
        let model = ScriptedModel([.text("a"), .text("b")], whenExhausted: .repeatLast)
        var texts: [String] = []
        for _ in 0..<4 { texts.append(try await model.complete(request).message.text) }
        #expect(texts == ["a", "b", "b", "b"])
    }

    @Test func failureStepThrowsItsError() async {
        let model = ScriptedModel([.failure(HarnessError(.timeout, "upstream timed out")), .failure(HarnessError(.timeout, "again"))])
        let error = await #expect(throws: HarnessError.self) { try await model.complete(request) }
        #expect(error?.code == .timeout)
        let (events, streamError) = await collect(model, request)
        #expect(events.isEmpty)
        #expect((streamError as? HarnessError)?.code == .timeout)
    }

    @Test func recordsRequestsInOrder() async throws {
        let model = ScriptedModel([.text("1"), .text("2")])
        _ = try await model.complete(ModelRequest(model: "m", messages: [.user("first")]))
        _ = await collect(model, ModelRequest(model: "m", messages: [.user("second")]))
        #expect(model.requests.map { $0.messages.first?.text } == ["first", "second"])
        #expect(model.callCount == 2)

        model.reset()
        #expect(model.requests.isEmpty)
        #expect(model.callCount == 0)
        #expect(try await model.complete(request).message.text == "1")
    }

    @Test func requestRecordingCanBeTurnedOff() async throws {
        let model = ScriptedModel([.text("1")], recordsRequests: false)
        _ = try await model.complete(request)
        #expect(model.requests.isEmpty)
        #expect(model.callCount == 1)
    }
}

@Suite struct InMemoryStoreContractTests {
    @Test func usageLedger() async throws { try await UsageLedgerContract.run { InMemoryUsageLedger() } }
    @Test func virtualKeys() async throws { try await VirtualKeyStoreContract.run { InMemoryVirtualKeyStore() } }
    @Test func jobs() async throws { try await JobStoreContract.run { InMemoryJobStore() } }
}
