//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import NIOCore

/// Turns the flushes a response makes in quick succession into one socket write.
///
/// A streamed response reaches the connection as separate writes, each flushed: the head,
/// each batch of events, the end. Each flush is a `write` system call, which on loopback
/// also runs the receiver's TCP input path — the largest cost of a short streamed answer.
/// This handler defers a flush to a task queued on the event loop behind the writes already
/// waiting there, so the parts of a response that are handed over together (Hummingbird's
/// writer hands each part over in its own event loop task) leave in one write. A part that
/// comes later — the next token of a slow stream — is flushed on its own, one task later:
/// no delay a client could see.
///
/// The same as Netty's `FlushConsolidationHandler`, but keyed on the event loop's queue
/// rather than on reads, because the writes come from the handler task, not from reads.
final class FlushCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    // Writes pass through untouched, whatever they are (HTTP response parts in the server).
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    private var flushPending = false

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            guard self.flushPending else { return }
            self.flushPending = false
            context.flush()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // What was written goes out before the connection closes.
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if flushPending {
            flushPending = false
            context.flush()
        }
    }
}
