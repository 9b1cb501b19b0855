//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// A single-consumer channel of stream events between a producing task and the consumer of a
/// ``ModelEventStream``, like `AsyncThrowingStream` with one addition: the consumer can take
/// every event already buffered at once (``ModelEventStream/AsyncIterator/nextBatch()``), so
/// that a server writes the events one upstream read completed in one write.
///
/// As with `AsyncThrowingStream`, the stream ends (`nil`) when the consuming task is
/// cancelled, and ``onTermination`` runs once when the consumer stops (its iterator is
/// released or its task cancelled) or the producer finishes.
public final class ModelEventChannel: Sendable {
    private struct State {
        var events: [ModelStreamEvent] = []
        var head = 0
        var finished = false
        var failure: (any Error)?
        var waiter: CheckedContinuation<Void, Never>?
        var onTermination: (@Sendable () -> Void)?
    }

    private enum Taken {
        case events([ModelStreamEvent])
        case failure(any Error)
        case end
        case wait
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs once when the consumer stops or the stream finishes.
    /// Set after the stream has already ended, it runs at once.
    public var onTermination: (@Sendable () -> Void)? {
        get { state.withLock { $0.onTermination } }
        set {
            let ended = state.withLock { s -> Bool in
                if s.finished { return true }
                s.onTermination = newValue
                return false
            }
            if ended { newValue?() }
        }
    }

    /// Adds an event; ignored once the stream has finished or its consumer has gone.
    public func yield(_ event: ModelStreamEvent) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.finished else { return nil }
            s.events.append(event)
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Ends the stream after the buffered events, with `error` thrown after them if given.
    public func finish(throwing error: (any Error)? = nil) {
        let (waiter, termination) = state.withLock { s -> (CheckedContinuation<Void, Never>?, (@Sendable () -> Void)?) in
            guard !s.finished else { return (nil, nil) }
            s.finished = true
            s.failure = error
            defer {
                s.waiter = nil
                s.onTermination = nil
            }
            return (s.waiter, s.onTermination)
        }
        waiter?.resume()
        termination?()
    }

    /// The consumer has gone: drop what is buffered and tell the producer.
    func terminate() {
        let (waiter, termination) = state.withLock { s -> (CheckedContinuation<Void, Never>?, (@Sendable () -> Void)?) in
            s.finished = true
            s.failure = nil
            s.events.removeAll()
            s.head = 0
            defer {
                s.waiter = nil
                s.onTermination = nil
            }
            return (s.waiter, s.onTermination)
        }
        waiter?.resume()
        termination?()
    }

    /// Every event left, when the producer has finished without an error; nil otherwise
    /// (nothing is taken then).
    func restIfEnded() -> [ModelStreamEvent]? {
        state.withLock { s -> [ModelStreamEvent]? in
            guard s.finished, s.failure == nil else { return nil }
            let rest = s.head == 0 ? s.events : Array(s.events[s.head...])
            s.events.removeAll()
            s.head = 0
            return rest
        }
    }

    /// The next event (`all == false`) or every buffered event, waiting for one if none is;
    /// nil at the end or when the consuming task is cancelled.
    func take(all: Bool) async throws -> [ModelStreamEvent]? {
        while true {
            let taken = state.withLock { s -> Taken in
                if s.head < s.events.count {
                    let batch: [ModelStreamEvent]
                    if all {
                        batch = s.head == 0 ? s.events : Array(s.events[s.head...])
                        s.events.removeAll(keepingCapacity: true)
                        s.head = 0
                    } else {
                        batch = [s.events[s.head]]
                        s.head += 1
                        if s.head == s.events.count {
                            s.events.removeAll(keepingCapacity: true)
                            s.head = 0
                        }
                    }
                    return .events(batch)
                }
                guard s.finished else { return .wait }
                if let failure = s.failure {
                    s.failure = nil
                    return .failure(failure)
                }
                return .end
            }
            switch taken {
            case .events(let batch): return batch
            case .failure(let error): throw error
            case .end: return nil
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let now = state.withLock { s -> Bool in
                            if s.head < s.events.count || s.finished { return true }
                            s.waiter = continuation
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.terminate()
                }
                if Task.isCancelled {
                    terminate()
                    return nil
                }
            }
        }
    }
}

extension ModelEventStream {
    /// The events `channel` receives. Make one stream per channel and iterate it once.
    public init(_ channel: ModelEventChannel) {
        let owner = ChannelOwner(channel)
        self.init(
            makeIterator: {
                let consumer = ChannelConsumer(owner)
                return AsyncIterator(
                    next: { try await consumer.take(all: false)?.first },
                    nextBatch: { try await consumer.take(all: true) },
                    restIfEnded: { consumer.owner.channel.restIfEnded() }
                )
            }
        )
    }
}

/// Held by the stream and by its iterator: when both are gone (a stream dropped without
/// being iterated), the producer is told that nobody will read.
private final class ChannelOwner: Sendable {
    let channel: ModelEventChannel

    init(_ channel: ModelEventChannel) {
        self.channel = channel
    }

    deinit {
        channel.terminate()
    }
}

/// Holds the channel for its iterator; when the iterator is released, the channel's
/// producer is told that nobody reads any more.
private final class ChannelConsumer: Sendable {
    let owner: ChannelOwner

    init(_ owner: ChannelOwner) {
        self.owner = owner
    }

    func take(all: Bool) async throws -> [ModelStreamEvent]? {
        try await owner.channel.take(all: all)
    }

    deinit {
        owner.channel.terminate()
    }
}
