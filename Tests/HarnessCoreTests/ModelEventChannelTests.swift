//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import Synchronization
import Testing

/// The channel behind routed streams: buffered events are taken one at a time or all at once,
/// the end and errors come after them, and the producer learns when the consumer has gone.
@Suite struct ModelEventChannelTests {
    static func text(_ s: String) -> ModelStreamEvent { .textDelta(s) }

    @Test func batchesTakeEverythingBufferedThenTheEnd() async throws {
        let channel = ModelEventChannel()
        for s in ["a", "b", "c"] { channel.yield(Self.text(s)) }
        var iterator = ModelEventStream(channel).makeAsyncIterator()
        #expect(try await iterator.nextBatch() == [Self.text("a"), Self.text("b"), Self.text("c")])
        channel.yield(Self.text("d"))
        channel.finish()
        channel.yield(Self.text("ignored after finish"))
        #expect(try await iterator.nextBatch() == [Self.text("d")])
        #expect(try await iterator.nextBatch() == nil)
        #expect(try await iterator.next() == nil)
    }

    @Test func singleEventsKeepTheirOrderAcrossWaits() async throws {
        let channel = ModelEventChannel()
        let producer = Task {
            for i in 0..<200 {
                channel.yield(Self.text("\(i)"))
                if i % 7 == 0 { await Task.yield() }
            }
            channel.finish()
        }
        var seen: [ModelStreamEvent] = []
        var batches = 0
        var iterator = ModelEventStream(channel).makeAsyncIterator()
        while true {
            if batches % 2 == 0 {
                guard let event = try await iterator.next() else { break }
                seen.append(event)
            } else {
                guard let batch = try await iterator.nextBatch() else { break }
                #expect(!batch.isEmpty)
                seen += batch
            }
            batches += 1
        }
        await producer.value
        #expect(seen == (0..<200).map { Self.text("\($0)") })
    }

    struct Boom: Error, Equatable {}

    /// `restIfEnded`: nothing (and nothing taken) while the producer runs; every event left
    /// once it finished; nothing after a failure, which `next()` then throws.
    @Test func restIfEndedOnlyAnswersForAFinishedStream() async throws {
        let channel = ModelEventChannel()
        var iterator = ModelEventStream(channel).makeAsyncIterator()
        channel.yield(Self.text("a"))
        channel.yield(Self.text("b"))
        #expect(iterator.restIfEnded() == nil)
        #expect(try await iterator.next() == Self.text("a"))
        channel.yield(Self.text("c"))
        channel.finish()
        #expect(iterator.restIfEnded() == [Self.text("b"), Self.text("c")])
        #expect(iterator.restIfEnded() == [])
        #expect(try await iterator.next() == nil)

        let failing = ModelEventChannel()
        var failingIterator = ModelEventStream(failing).makeAsyncIterator()
        failing.yield(Self.text("x"))
        failing.finish(throwing: Boom())
        #expect(failingIterator.restIfEnded() == nil)
        #expect(try await failingIterator.next() == Self.text("x"))
        await #expect(throws: Boom.self) { _ = try await failingIterator.next() }
    }

    /// A stream made from an array has always ended: the rest comes at once, unless it ends
    /// with an error; a stream that cannot tell answers nil.
    @Test func restIfEndedOnArrayAndOtherStreams() async throws {
        var whole = ModelEventStream(events: [Self.text("a"), Self.text("b"), Self.text("c")]).makeAsyncIterator()
        #expect(try await whole.next() == Self.text("a"))
        #expect(whole.restIfEnded() == [Self.text("b"), Self.text("c")])
        #expect(try await whole.next() == nil)

        var broken = ModelEventStream(events: [Self.text("a")], error: Boom()).makeAsyncIterator()
        #expect(broken.restIfEnded() == nil)
        #expect(try await broken.next() == Self.text("a"))
        await #expect(throws: Boom.self) { _ = try await broken.next() }

        let (stream, continuation) = AsyncThrowingStream<ModelStreamEvent, any Error>.makeStream()
        continuation.yield(Self.text("a"))
        continuation.finish()
        var other = ModelEventStream(stream).makeAsyncIterator()
        #expect(other.restIfEnded() == nil)
        #expect(try await other.next() == Self.text("a"))
    }


    @Test func anErrorComesAfterTheBufferedEvents() async throws {
        let channel = ModelEventChannel()
        channel.yield(Self.text("kept"))
        channel.finish(throwing: Boom())
        var iterator = ModelEventStream(channel).makeAsyncIterator()
        #expect(try await iterator.next() == Self.text("kept"))
        await #expect(throws: Boom.self) { try await iterator.next() }
        #expect(try await iterator.next() == nil)
    }

    @Test func cancellingTheConsumerEndsTheStreamAndTellsTheProducer() async throws {
        let channel = ModelEventChannel()
        let told = Mutex(0)
        channel.onTermination = { told.withLock { $0 += 1 } }
        let consumer = Task {
            var iterator = ModelEventStream(channel).makeAsyncIterator()
            return try await iterator.nextBatch()
        }
        try await Task.sleep(for: .milliseconds(50))  // the consumer is waiting (or about to)
        consumer.cancel()
        #expect(try await consumer.value == nil)
        #expect(told.withLock { $0 } == 1)
        channel.yield(Self.text("late"))  // ignored, no crash
        channel.finish()
        #expect(told.withLock { $0 } == 1)
    }

    @Test func releasingTheIteratorTellsTheProducer() async throws {
        let channel = ModelEventChannel()
        let told = Mutex(false)
        channel.onTermination = { told.withLock { $0 = true } }
        do {
            var iterator = ModelEventStream(channel).makeAsyncIterator()
            channel.yield(Self.text("x"))
            _ = try await iterator.next()
        }
        #expect(told.withLock { $0 })
    }

    @Test func droppingAStreamNeverIteratedTellsTheProducer() {
        let channel = ModelEventChannel()
        let told = Mutex(false)
        channel.onTermination = { told.withLock { $0 = true } }
        do {
            let stream = ModelEventStream(channel)
            channel.yield(Self.text("unread"))
            _ = stream
        }
        #expect(told.withLock { $0 })
    }

    @Test func aStreamDroppedWhileItsIteratorReadsDoesNotEndIt() async throws {
        let channel = ModelEventChannel()
        let told = Mutex(false)
        channel.onTermination = { told.withLock { $0 = true } }
        var iterator = ModelEventStream(channel).makeAsyncIterator()  // the stream value is gone at once
        channel.yield(Self.text("a"))
        #expect(try await iterator.next() == Self.text("a"))
        #expect(!told.withLock { $0 })
        channel.finish()
        #expect(try await iterator.next() == nil)
    }

    @Test func aHandlerSetAfterTheEndRunsAtOnce() {
        let channel = ModelEventChannel()
        channel.finish()
        let told = Mutex(false)
        channel.onTermination = { told.withLock { $0 = true } }
        #expect(told.withLock { $0 })
    }
}
