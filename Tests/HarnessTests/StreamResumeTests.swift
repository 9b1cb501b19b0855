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

@Suite struct StreamResumeTests {
    static let weather = ToolCall(id: "call_1", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)

    /// A stream that breaks after text, a completed call and a started call is resumed: one
    /// stream, text = partial + continuation, a seam between, the completed call delivered
    /// once (the continuation's repeat of it is dropped), the cut call dropped and
    /// re-requested, usage summed and delivered once, finish last.
    @Test func brokenStreamIsResumedIntoOneStream() async throws {
        let clock = VirtualClock()
        let model = FlakyModel { n in
            switch n {
            case 0:
                return .events([
                    .textDelta("The weather "), .textDelta("in Paris"),
                    .toolCallStart(id: "call_1", name: "get_weather"),
                    .toolCallArgumentsDelta(id: "call_1", delta: #"{"city":"Paris"}"#),
                    .toolCallComplete(Self.weather),
                    .toolCallStart(id: "call_2", name: "get_time"),
                    .toolCallArgumentsDelta(id: "call_2", delta: #"{"tz":"#),
                ], then: UpstreamFailure(failureCode: "connection"))
            default:
                return .events([
                    .textDelta(" is sunny."),
                    .toolCallStart(id: "call_1", name: "get_weather"),
                    .toolCallArgumentsDelta(id: "call_1", delta: #"{"city":"Paris"}"#),
                    .toolCallComplete(Self.weather),
                    .toolCallStart(id: "call_3", name: "get_time"),
                    .toolCallArgumentsDelta(id: "call_3", delta: #"{"tz":"CET"}"#),
                    .toolCallComplete(ToolCall(id: "call_3", name: "get_time", rawArguments: #"{"tz":"CET"}"#)),
                    .usage(Usage(inputTokens: 20, outputTokens: 9)),
                    .finish(.toolCalls, requestID: "r2"),
                ], then: nil)
            }
        }
        let retrying = RetryingModel(model, policy: RetryPolicy(maxAttempts: 3), clock: clock.clock)
        let collector = CallReportCollector()
        let (events, error) = await CallReportCollector.$current.withValue(collector) { await drain(retrying.stream(plainRequest)) }
        #expect(error == nil)
        var acc = ModelStreamAccumulator()
        for e in events { acc.add(e) }
        #expect(acc.text == "The weather in Paris is sunny.")
        #expect(acc.toolCalls.map(\.id) == ["call_1", "call_3"])
        #expect(acc.incompleteToolCallIDs.isEmpty)
        #expect(acc.finishReason == .toolCalls)
        let seams = events.compactMap { if case .seam(let s) = $0 { s } else { nil } }
        #expect(seams.count == 1)
        #expect(seams.first?.deliveredCharacters == "The weather in Paris".count)
        #expect(seams.first?.keptToolCallIDs == ["call_1"])
        #expect(seams.first?.droppedToolCallIDs == ["call_2"])
        #expect(seams.first?.reason == "connection")
        #expect(events.filter { if case .usage = $0 { true } else { false } }.count == 1)
        #expect(events.last == .finish(.toolCalls, requestID: "r2"))
        // The seam comes right before the continuation's first output.
        let seamIndex = try #require(events.firstIndex { if case .seam = $0 { true } else { false } })
        #expect(events[seamIndex + 1] == .textDelta(" is sunny."))
        // The continuation request carries the partial output and names the kept call.
        #expect(model.callCount == 2)
        let resume = model.requests[1]
        #expect(resume.messages.count == 3)
        #expect(resume.messages[1] == .assistant("The weather in Paris"))
        #expect(resume.messages[2].text.contains("call_1"))
        let report = try #require(collector.reports.first)
        #expect(report.resumptions == 1)
        #expect(report.attempts.map(\.outcome) == [.failed, .succeeded])
        #expect(report.attempts.last?.resumed == true)
    }

    /// A failure before any output is a plain retry: no seam, the original request again.
    @Test func failureBeforeOutputIsAPlainRetry() async throws {
        let model = FlakyModel { n in n == 0 ? .fail(.server) : .answer("whole answer") }
        let retrying = RetryingModel(model, policy: RetryPolicy(maxAttempts: 2), clock: VirtualClock().clock)
        let (events, error) = await drain(retrying.stream(plainRequest))
        #expect(error == nil)
        #expect(!events.contains { if case .seam = $0 { true } else { false } })
        #expect(model.requests.map(\.messages) == [plainRequest.messages, plainRequest.messages])
        var acc = ModelStreamAccumulator()
        for e in events { acc.add(e) }
        #expect(acc.text == "whole answer")
    }

    /// A non-retryable failure after output is thrown after the delivered events.
    @Test func nonRetryableFailureAfterOutputIsThrown() async throws {
        let model = FlakyModel { _ in .events([.textDelta("part")], then: .invalid) }
        let (events, error) = await drain(RetryingModel(model, clock: VirtualClock().clock).stream(plainRequest))
        #expect(events == [.textDelta("part")])
        #expect(error is UpstreamFailure)
        #expect(model.callCount == 1)
    }
}
