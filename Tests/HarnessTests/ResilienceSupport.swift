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
import Synchronization

/// A retryable or not failure with an optional Retry-After, as an upstream would give.
struct UpstreamFailure: RetryClassifiable, Sendable {
    var isRetryable = true
    var retryAfter: Duration?
    var failureCode = "server"

    static let server = UpstreamFailure()
    static let invalid = UpstreamFailure(isRetryable: false, failureCode: "invalid_request")
}

/// A model whose n-th call (from 0) does what `script` says.
final class FlakyModel: LanguageModel, Sendable {
    enum Step: Sendable {
        case fail(UpstreamFailure)
        case answer(String)
        case events([ModelStreamEvent], then: UpstreamFailure?)
    }

    let name: String
    let script: @Sendable (Int) -> Step
    private let calls = Mutex<[ModelRequest]>([])

    init(_ name: String = "flaky", script: @escaping @Sendable (Int) -> Step) {
        self.name = name
        self.script = script
    }

    var providerName: String { name }
    var requests: [ModelRequest] { calls.withLock { $0 } }
    var callCount: Int { calls.withLock { $0.count } }

    private func next(_ request: ModelRequest) -> Step {
        let n = calls.withLock { c in
            c.append(request)
            return c.count - 1
        }
        return script(n)
    }

    func complete(_ request: ModelRequest) async throws -> ModelResponse {
        switch next(request) {
        case .fail(let e): throw e
        case .answer(let text): return ModelResponse(message: .assistant(text), finishReason: .stop)
        case .events(let events, let error):
            var acc = ModelStreamAccumulator()
            for e in events { acc.add(e) }
            if let error { throw error }
            return acc.response
        }
    }

    func stream(_ request: ModelRequest) -> ModelEventStream {
        switch next(request) {
        case .fail(let e): return ModelEventStream(events: [], error: e)
        case .answer(let text):
            return ModelEventStream(events: ModelResponse(message: .assistant(text), finishReason: .stop).streamEvents())
        case .events(let events, let error): return ModelEventStream(events: events, error: error)
        }
    }
}

let plainRequest = ModelRequest(model: "m", messages: [.user("hello")])

/// Collects a stream's events and its error.
func drain(_ stream: ModelEventStream) async -> ([ModelStreamEvent], (any Error)?) {
    var events: [ModelStreamEvent] = []
    do {
        for try await e in stream { events.append(e) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}
