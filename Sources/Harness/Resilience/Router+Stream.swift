//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Synchronization

extension Router {
    public func stream(_ request: ModelRequest) -> ModelEventStream {
        stream(request, continuing: StreamContinuation())
    }

    /// Continues a stream that another caller began and that broke after delivering output:
    /// `delivery` is what its client has seen, with the break marked
    /// (``StreamContinuation/breakOff(reason:fromRoute:)``). The first attempt asks for the
    /// continuation of `request`; the events start with the seam, and usage and `finish` come
    /// at the end, summed with what `delivery` holds, as in a stream this router began.
    ///
    /// The gateway's relay uses it: it streams an upstream's events itself and, when they
    /// break, hands what it delivered to the router so the answer is resumed, not lost.
    public func stream(_ request: ModelRequest, continuing delivery: StreamContinuation) -> ModelEventStream {
        // A channel, not an AsyncThrowingStream: the consumer can take the events one upstream
        // read completed all at once (ModelEventStream.AsyncIterator.nextBatch()).
        let continuation = ModelEventChannel()
        // The producer lives exactly as long as the stream: it is cancelled when the consumer
        // stops (and the upstream request with it). Task-locals (the report collector) are
        // inherited from the caller of `stream(_:)`.
        let task = Task {
            var trace = CallTrace(model: self.name, start: self.clock.now())
            var delivery = delivery
            trace.deliveredOutput = delivery.hasOutput
            do {
                try await self.drive(request, trace: &trace, canHedge: { !$0.deliveredOutput }) { index, hedge, trace in
                    try await self.streamAttempt(
                        request, index: index, hedge: hedge, delivery: &delivery, to: continuation, trace: &trace
                    )
                }
                for event in delivery.end() { continuation.yield(event) }
                CallReportCollector.current?.record(trace.report(self.clock.now(), failure: nil))
                continuation.finish()
            } catch {
                CallReportCollector.current?.record(trace.report(self.clock.now(), failure: Self.code(of: error)))
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { task.cancel() }
        return ModelEventStream(continuation)
    }

    /// One streamed attempt on route `index` (raced against `hedge` until the first event):
    /// delivers its events through `delivery`; on a failure, marks the break so that the
    /// next attempt continues from what was delivered.
    func streamAttempt(
        _ request: ModelRequest,
        index: Int,
        hedge: Admitted?,
        delivery: inout StreamContinuation,
        to continuation: ModelEventChannel,
        trace: inout CallTrace
    ) async throws -> Served<Void> {
        let resuming = delivery.hasOutput
        let sent = resuming ? delivery.request(continuing: request, instruction: configuration.resumeInstruction) : request
        if resuming { trace.resumptions += 1 }
        let timeout = configuration.retry.attemptTimeout
        var route = index
        do {
            let first = try await firstEvent(sent, index: index, hedge: resuming ? nil : hedge, timeout: timeout, trace: &trace)
            route = first.route
            let name = routes[route].name
            if let event = first.value.event {
                for e in delivery.admit(event, route: name) { continuation.yield(e) }
            }
            trace.deliveredOutput = delivery.hasOutput
            if first.value.event != nil {
                try await consume(first.value.box, idle: timeout) { event in
                    for e in delivery.admit(event, route: name) { continuation.yield(e) }
                }
            }
            trace.deliveredOutput = delivery.hasOutput
            return Served(value: (), route: route, primaryLost: first.primaryLost)
        } catch {
            delivery.breakOff(reason: Self.code(of: error), fromRoute: routes[route].name)
            trace.deliveredOutput = delivery.hasOutput
            throw error
        }
    }

    /// The first event of route `index`, or of `hedge` if it answers first.
    func firstEvent(
        _ request: ModelRequest,
        index: Int,
        hedge: Admitted?,
        timeout: Duration?,
        trace: inout CallTrace
    ) async throws -> Served<FirstEvent> {
        let clock = self.clock
        guard let hedge, let delay = configuration.hedgeDelay else {
            let start = clock.now()
            let first = try await open(request, index, timeout: timeout)
            selector.recordLatency(clock.now() - start, route: index)
            trace.firstEvent = trace.firstEvent ?? clock.now() - trace.start
            return Served(value: first, route: index, primaryLost: false)
        }
        let results = await withTaskGroup(of: HedgeResult<FirstEvent>.self) { group in
            group.addTask {
                let start = clock.now()
                do {
                    let first = try await self.open(request, index, timeout: timeout)
                    return .answered(index, first, clock.now() - start)
                } catch { return .failed(index, error, clock.now() - start) }
            }
            group.addTask {
                do { try await clock.sleep(delay) } catch { return .notStarted }
                guard hedge.admit() else { return .notStarted }
                let start = clock.now()
                do {
                    let first = try await self.open(request, hedge.index, timeout: timeout)
                    return .answered(hedge.index, first, clock.now() - start)
                } catch { return .failed(hedge.index, error, clock.now() - start) }
            }
            var results: [HedgeResult<FirstEvent>] = []
            while let result = await group.next() {
                results.append(result)
                if case .answered = result { group.cancelAll() }
                if case .failed(let i, _, _) = result, i == index, !hedge.started.0 { group.cancelAll() }
                if case .failed(let i, _, _) = result, i == hedge.index { group.cancelAll() }
            }
            return results
        }
        return try settleHedge(results, primary: index, hedge: hedge, trace: &trace)
    }

    /// Opens route `index`'s stream and waits for its first event.
    func open(_ request: ModelRequest, _ index: Int, timeout: Duration?) async throws -> FirstEvent {
        let model = routes[index].model
        let sent = routed(request, index)
        return try await withTimeout(timeout, route: routes[index].name) {
            let box = IteratorBox(model.stream(sent).makeAsyncIterator())
            let event = try await box.next()
            try Task.checkCancellation()  // a cancelled hedge loser's stream just ends
            return FirstEvent(event: event, box: box)
        }
    }

    /// Delivers the rest of a stream to `handle`, failing with a retryable timeout when no
    /// event arrives within `idle`.
    func consume(
        _ box: IteratorBox,
        idle: Duration?,
        _ handle: (ModelStreamEvent) -> Void
    ) async throws {
        guard let idle else {
            while let event = try await box.next() { handle(event) }
            return
        }
        let clock = self.clock
        let (relay, relayed) = AsyncThrowingStream<ModelStreamEvent, any Error>.makeStream()
        let progress = Progress(clock.now())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    while let event = try await box.next() {
                        progress.mark(clock.now())
                        relayed.yield(event)
                    }
                    relayed.finish()
                } catch {
                    relayed.finish(throwing: error)
                }
            }
            group.addTask {
                while true {
                    let wait = progress.last + idle - clock.now()
                    if wait <= .zero {
                        relayed.finish(throwing: HarnessError(.timeout, "the stream was idle for longer than \(idle)"))
                        return
                    }
                    try await clock.sleep(wait)
                }
            }
            for try await event in relay { handle(event) }
            group.cancelAll()
        }
    }
}

/// A stream's first event and the iterator that continues it.
struct FirstEvent: Sendable {
    let event: ModelStreamEvent?
    let box: IteratorBox
}

/// Holds a stream's iterator while it is handed from the task that opened the stream to
/// the one that reads the rest of it.
///
/// `@unchecked Sendable` without a lock: the iterator is used by one task at a time — the
/// child that opened it until that child returns, then the reader — so there is no
/// concurrent access to guard. (The iterator itself is not `Sendable`, and a task group
/// result must be.)
final class IteratorBox: @unchecked Sendable {
    private var iterator: ModelEventStream.AsyncIterator

    init(_ iterator: ModelEventStream.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> ModelStreamEvent? {
        try await iterator.next()
    }
}

/// When a stream last delivered an event.
final class Progress: Sendable {
    private let instant: Mutex<Duration>

    init(_ now: Duration) {
        instant = Mutex(now)
    }

    func mark(_ now: Duration) { instant.withLock { $0 = now } }

    var last: Duration { instant.withLock { $0 } }
}
