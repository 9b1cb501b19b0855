//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
import HarnessProviders
import HarnessProvidersTesting
import Testing

/// Paths and helpers the provider tests share.
enum Conformance {
    static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["HARNESS_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/conformance")
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    static func json(_ relative: String) throws -> JSONValue {
        try JSONValue(parsingBytes: try bytes(relative))
    }
}

/// Fixtures written for this project from each provider's documentation.
enum Fixture {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(name)))
    }
}

/// Collects a stream: the events delivered, and the error it ended with, if any.
func collect(_ stream: ModelEventStream) async -> (events: [ModelStreamEvent], error: (any Error)?) {
    var events: [ModelStreamEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

/// The text, tool calls and finish reason a list of events adds up to.
func summary(_ events: [ModelStreamEvent]) -> (text: String, calls: [ToolCall], finish: FinishReason?, usage: Usage?) {
    var accumulator = ModelStreamAccumulator()
    var usage: Usage?
    for event in events {
        accumulator.add(event)
        if case .usage(let u) = event { usage = u }
    }
    return (accumulator.text, accumulator.toolCalls, accumulator.finishReason, usage)
}

/// Checks the event grammar of ModelStreamEvent: starts before deltas before completes,
/// usage at most once, finish last and once.
func checkGrammar(_ events: [ModelStreamEvent], sourceLocation: SourceLocation = #_sourceLocation) {
    var started: Set<String> = []
    var completed: Set<String> = []
    var usageCount = 0
    for (i, event) in events.enumerated() {
        switch event {
        case .textDelta: break
        case .toolCallStart(let id, _):
            #expect(!started.contains(id), "call \(id) started twice", sourceLocation: sourceLocation)
            started.insert(id)
        case .toolCallArgumentsDelta(let id, _):
            #expect(started.contains(id) && !completed.contains(id), "delta for \(id) outside its call", sourceLocation: sourceLocation)
        case .toolCallComplete(let call):
            #expect(started.contains(call.id) && !completed.contains(call.id), "bad completion of \(call.id)", sourceLocation: sourceLocation)
            completed.insert(call.id)
        case .usage: usageCount += 1
        case .finish:
            #expect(i == events.count - 1, "finish is not last", sourceLocation: sourceLocation)
        case .seam:
            Issue.record("a provider delivered a seam; only resilience wrappers do", sourceLocation: sourceLocation)
        }
    }
    #expect(usageCount <= 1, "usage delivered \(usageCount) times", sourceLocation: sourceLocation)
    #expect(started == completed, "calls started but not completed: \(started.subtracting(completed))", sourceLocation: sourceLocation)
}

/// Events with argument deltas merged per call and text deltas merged, so that streams
/// split differently compare equal when they mean the same.
func normalized(_ events: [ModelStreamEvent]) -> [ModelStreamEvent] {
    var out: [ModelStreamEvent] = []
    for event in events {
        switch (out.last, event) {
        case (.textDelta(let a)?, .textDelta(let b)):
            out[out.count - 1] = .textDelta(a + b)
        case (.toolCallArgumentsDelta(let id1, let a)?, .toolCallArgumentsDelta(let id2, let b)) where id1 == id2:
            out[out.count - 1] = .toolCallArgumentsDelta(id: id1, delta: a + b)
        default:
            out.append(event)
        }
    }
    return out
}

/// Feeds `bytes` to a fresh mapper split at `splits`, returning events and error.
func mapAll<M: WireEventMapper>(_ make: () -> M, _ bytes: [UInt8], splits: [Int]) -> (events: [ModelStreamEvent], error: (any Error)?) {
    var mapper = make()
    var events: [ModelStreamEvent] = []
    var start = 0
    do {
        for split in splits + [bytes.count] where split >= start {
            try bytes[start..<split].withUnsafeBytes { try mapper.feed($0, into: &events) }
            start = split
        }
        try mapper.finish(into: &events)
        return (events, nil)
    } catch {
        return (events, error)
    }
}
