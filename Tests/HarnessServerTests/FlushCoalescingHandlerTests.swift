//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

@testable import HarnessServer
import NIOCore
import NIOEmbedded
import Testing

/// Counts the flushes that reach the head of the pipeline.
private final class FlushCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var flushes = 0

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

@Suite("Flush coalescing")
struct FlushCoalescingHandlerTests {
    private func makeChannel() throws -> (EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(FlushCoalescingHandler())
        return (channel, counter)
    }

    private func written(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(String(buffer: buffer)) }
        return out
    }

    /// Head, body and end handed over in one pass of the loop leave in one flush, once the
    /// loop runs its queued tasks; nothing is held back after that.
    @Test func partsHandedOverTogetherLeaveInOneFlush() throws {
        let (channel, counter) = try makeChannel()
        for part in ["head", "body", "end"] {
            channel.writeAndFlush(ByteBuffer(string: part), promise: nil)
        }
        #expect(counter.flushes == 0)
        #expect(try written(channel).isEmpty)
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 1)
        #expect(try written(channel) == ["head", "body", "end"])
        _ = try channel.finish()
    }

    /// A part written later (the next token of a slow stream) gets its own flush: the
    /// handler never waits for more data, only for the loop's queue.
    @Test func aLaterPartIsFlushedOnItsOwn() throws {
        let (channel, counter) = try makeChannel()
        channel.writeAndFlush(ByteBuffer(string: "first"), promise: nil)
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == ["first"])
        channel.writeAndFlush(ByteBuffer(string: "second"), promise: nil)
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == ["second"])
        #expect(counter.flushes == 2)
        _ = try channel.finish()
    }

    /// Closing with a flush still pending writes what was flushed before the close.
    @Test func closeFlushesWhatIsPending() throws {
        let (channel, counter) = try makeChannel()
        channel.writeAndFlush(ByteBuffer(string: "last words"), promise: nil)
        channel.close(promise: nil)
        #expect(counter.flushes == 1)
        #expect(try written(channel) == ["last words"])
    }
}
