//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import HarnessCore
import HarnessProviders
import NIOCore

/// A streamed request that ``GatewayRelay`` relays: the upstream's `chat.completion.chunk`
/// events are read as they arrive (``OpenAIChatStreamMapper``), pass through a
/// ``StreamContinuation`` as in the ``Router``, and are written again by the full path's own
/// ``OpenAIStreamEncoder``, so the client gets the same events either way: the gateway's `id`
/// and model name, usage only if it asked for it.
///
/// Until the first events reach the client, a failure is the full path's to retry (nothing
/// was sent). After that, a break is resumed: the router is handed what was delivered
/// (``Router/stream(_:continuing:)``) and asks for the rest.
final class RelayStream {
    private var mapper: OpenAIChatStreamMapper
    /// The encoder's state (tool call indexes, usage) carries over to a continuation.
    private(set) var encoder: OpenAIStreamEncoder
    /// What the client was given, for a continuation.
    private(set) var delivery = StreamContinuation()
    private let routeName: String
    /// Events encoded and not yet written to the client.
    var out: [UInt8] = []
    /// The response head went to the client: from now on a break is resumed, not retried.
    var headWritten = false
    /// The upstream's stream has given an event: as on the full path, which awaits the
    /// first event before it answers, the response may begin.
    private(set) var hasEvents = false
    /// The client's request, for a continuation.
    let requestBody: ByteBuffer
    /// The usage delivered at the end.
    private(set) var usage: Usage?
    /// The router's continuation after a break, while it runs.
    var continuation: Task<Void, Never>?
    private var events: [ModelStreamEvent] = []

    init(id: String, model: String, includeUsage: Bool, provider: String, routeName: String, requestBody: ByteBuffer) {
        self.mapper = OpenAIChatStreamMapper(provider: provider, requestID: nil)
        self.encoder = OpenAIStreamEncoder(id: id, model: model, created: Int(Date().timeIntervalSince1970), includeUsage: includeUsage)
        self.routeName = routeName
        self.requestBody = requestBody
        out.reserveCapacity(1024)
        encoder.start(into: &out)
    }

    /// Reads more of the upstream's body; the events it completes are encoded into `out`.
    func feed(_ bytes: ByteBuffer) throws {
        events.removeAll(keepingCapacity: true)
        try bytes.withUnsafeReadableBytes { try mapper.feed($0, into: &events) }
        if !events.isEmpty { hasEvents = true }
        deliver()
    }

    /// The upstream's body is complete: the last events, then the usage and `finish` the
    /// continuation held.
    func end() throws {
        events.removeAll(keepingCapacity: true)
        try mapper.finish(into: &events)
        deliver()
        for event in delivery.end() {
            if case .usage(let u) = event { usage = u }
            encoder.encode(event, into: &out)
        }
    }

    private func deliver() {
        for event in events {
            for admitted in delivery.admit(event, route: routeName) { encoder.encode(admitted, into: &out) }
        }
    }

    /// Marks the break in what was delivered; returns whether a continuation would carry on
    /// from output (otherwise the stream had nothing to resume).
    func breakOff(reason: String) -> Bool {
        delivery.breakOff(reason: reason, fromRoute: routeName)
    }

    // MARK: Framing, for the front (the codec frames its own)

    /// A stream's response head: `length` for a whole stream, chunked otherwise.
    static func head(length: Int?, requestID: String, into out: inout ByteBuffer) {
        out.writeStaticString("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n")
        if let length {
            out.writeStaticString("content-length: ")
            out.writeString(String(length))
        } else {
            out.writeStaticString("transfer-encoding: chunked")
        }
        out.writeStaticString("\r\nx-request-id: ")
        out.writeString(requestID)
        out.writeStaticString("\r\nrequest-id: ")
        out.writeString(requestID)
        out.writeStaticString("\r\ndate: ")
        out.writeString(HTTPDate.now)
        out.writeStaticString("\r\n\r\n")
    }

    /// One chunk of chunked transfer coding (nothing for no bytes: an empty chunk ends a body).
    static func chunk(_ bytes: [UInt8], into out: inout ByteBuffer) {
        guard !bytes.isEmpty else { return }
        out.writeString(String(bytes.count, radix: 16))
        out.writeStaticString("\r\n")
        out.writeBytes(bytes)
        out.writeStaticString("\r\n")
    }

    /// The end of a chunked body.
    static func lastChunk(into out: inout ByteBuffer) {
        out.writeStaticString("0\r\n\r\n")
    }
}
