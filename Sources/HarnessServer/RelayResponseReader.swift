//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import NIOCore

/// Reads an upstream's answer to one relayed request from the connection's bytes: an HTTP/1.1
/// response (RFC 9112) with its body framed by `Content-Length`, chunked transfer coding, or
/// the end of the connection; interim (1xx) responses are skipped.
///
/// It is strict: anything else (another transfer coding, both framings, a malformed length or
/// chunk, a head over ``maxHeadLength``) is an error, after which the connection is not used
/// again and the relay hands the request to the full path.
struct RelayResponseReader {
    /// The final response's status line and connection handling.
    struct Head: Equatable {
        var status: Int
        /// Whether the connection may carry another request after this response.
        var keepAlive: Bool
        /// The body is `text/event-stream`.
        var eventStream = false
    }

    /// What the bytes so far hold.
    enum Progress: Equatable {
        case needMore
        /// The final response's head is complete (reported once).
        case head(Head)
        /// The whole response: its body, de-chunked.
        case done(ByteBuffer)
    }

    struct Malformed: Error, Equatable {
        var what: String
    }

    static let maxHeadLength = 64 * 1024

    enum Framing: Equatable {
        case length(Int)
        case chunked
        case untilClose
    }

    private enum State {
        case head
        case body(Framing)
        /// In a chunked body, before a chunk's size line.
        case chunkSize
        /// In a chunked body, inside a chunk: bytes left, then CRLF.
        case chunkData(Int)
        /// After the last chunk: trailer lines until an empty one.
        case trailers
        case done
    }

    private var state = State.head
    private var bytes: ByteBuffer?
    private var body: ByteBuffer?
    private(set) var head: Head?
    /// Bytes the server sent after the response (it must not): the connection is not reused.
    private(set) var hasExtraBytes = false

    /// Bytes held so far (the body and what is not read yet).
    var heldBytes: Int { (bytes?.readableBytes ?? 0) + (body?.readableBytes ?? 0) }

    init() {}

    /// Adds bytes read from the connection.
    mutating func append(_ buffer: ByteBuffer) {
        if bytes == nil {
            bytes = buffer
        } else {
            var buffer = buffer
            bytes?.writeBuffer(&buffer)
        }
        if case .done = state, (bytes?.readableBytes ?? 0) > 0 { hasExtraBytes = true }
    }

    /// Reads as far as the bytes allow; call again after `.head` to go on.
    mutating func read() throws(Malformed) -> Progress {
        while true {
            switch state {
            case .head:
                guard let found = try readHead() else { return .needMore }
                guard let framing = found.framing else { continue }  // an interim response
                head = found.head
                state = .body(framing)
                if case .length(let n) = framing, n > 0 { body = ByteBufferAllocator().buffer(capacity: n) }
                return .head(found.head)
            case .body(.length(let remaining)):
                if remaining == 0 { return finish() }
                guard var available = bytes, available.readableBytes > 0 else { return .needMore }
                let take = min(remaining, available.readableBytes)
                if take > 0, var slice = available.readSlice(length: take) { appendBody(&slice) }
                bytes = available
                if remaining - take > 0 {
                    state = .body(.length(remaining - take))
                    return .needMore
                }
                return finish()
            case .body(.chunked):
                state = .chunkSize
            case .body(.untilClose):
                if var available = bytes, available.readableBytes > 0 {
                    appendBody(&available)
                    bytes = nil
                }
                return .needMore
            case .chunkSize:
                guard let line = try readLine() else { return .needMore }
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailers : .chunkData(size)
            case .chunkData(let remaining):
                guard var available = bytes, available.readableBytes > 0 else { return .needMore }
                if remaining > 0 {
                    let take = min(remaining, available.readableBytes)
                    if var slice = available.readSlice(length: take) { appendBody(&slice) }
                    bytes = available
                    state = .chunkData(remaining - take)
                    if remaining - take > 0 { return .needMore }
                    continue
                }
                guard let line = try readLine() else { return .needMore }
                guard line.isEmpty else { throw Malformed(what: "chunk data longer than its size") }
                state = .chunkSize
            case .trailers:
                guard let line = try readLine() else { return .needMore }
                if line.isEmpty { return finish() }
            case .done:
                return .needMore
            }
        }
    }

    /// The body read so far and not taken yet, for a caller that handles it in parts (a
    /// stream); nil when there is none. What `.done` reports afterwards is the rest.
    mutating func takeBody() -> ByteBuffer? {
        guard let taken = body, taken.readableBytes > 0 else { return nil }
        body = nil
        return taken
    }

    /// The connection ended: the response, if the end is what frames its body.
    mutating func readEndOfConnection() -> ByteBuffer? {
        guard case .body(.untilClose) = state else { return nil }
        if var available = bytes, available.readableBytes > 0 { appendBody(&available) }
        bytes = nil
        state = .done
        head?.keepAlive = false
        return body ?? ByteBuffer()
    }

    private mutating func finish() -> Progress {
        state = .done
        if let rest = bytes, rest.readableBytes > 0 { hasExtraBytes = true }
        return .done(body ?? ByteBuffer())
    }

    private mutating func appendBody(_ slice: inout ByteBuffer) {
        if body == nil { body = slice } else { body?.writeBuffer(&slice) }
    }

    /// The next CRLF-terminated line (without it), or nil until one has arrived.
    private mutating func readLine() throws(Malformed) -> [UInt8]? {
        guard var available = bytes else { return nil }
        let view = available.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            guard view.count < 4096 else { throw Malformed(what: "chunk line too long") }
            return nil
        }
        guard cr + 1 < view.endIndex else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw Malformed(what: "bare CR") }
        let line = Array(view[view.startIndex..<cr])
        available.moveReaderIndex(forwardBy: line.count + 2)
        bytes = available
        return line
    }

    /// A chunk-size line: hex digits, then optional extensions (ignored).
    static func chunkSize(_ line: [UInt8]) throws(Malformed) -> Int {
        var size = 0
        var digits = 0
        var i = 0
        while i < line.count, let d = hexValue(line[i]) {
            guard digits < 15 else { throw Malformed(what: "chunk size too large") }
            size = size * 16 + d
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw Malformed(what: "chunk size") }
        while i < line.count, line[i] == UInt8(ascii: " ") || line[i] == UInt8(ascii: "\t") { i += 1 }
        guard i == line.count || line[i] == UInt8(ascii: ";") else { throw Malformed(what: "chunk size") }
        return size
    }

    private static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A complete head at the start of the bytes, consumed; `framing` is nil for an interim
    /// response.
    private mutating func readHead() throws(Malformed) -> (head: Head, framing: Framing?)? {
        guard var available = bytes else { return nil }
        let parsed: (head: Head, framing: Framing?, length: Int)? = try available.withUnsafeReadableBytes { raw throws(Malformed) in
            try Self.parseHead(raw)
        }
        guard let parsed else {
            guard available.readableBytes < Self.maxHeadLength else { throw Malformed(what: "response head too long") }
            return nil
        }
        available.moveReaderIndex(forwardBy: parsed.length)
        bytes = available
        return (parsed.head, parsed.framing)
    }

    /// Parses a head at the start of `raw`; nil while it is incomplete.
    static func parseHead(_ raw: UnsafeRawBufferPointer) throws(Malformed) -> (head: Head, framing: Framing?, length: Int)? {
        let n = raw.count
        // "HTTP/1.x SP 3DIGIT SP reason CRLF"
        let prefix = Array("HTTP/1.".utf8)
        for (i, b) in prefix.enumerated() {
            guard i < n else { return nil }
            guard raw[i] == b else { throw Malformed(what: "status line") }
        }
        guard n > 12 else { return nil }
        let minor = raw[7]
        guard minor == UInt8(ascii: "1") || minor == UInt8(ascii: "0"), raw[8] == UInt8(ascii: " ") else {
            throw Malformed(what: "status line")
        }
        var status = 0
        for i in 9..<12 {
            let b = raw[i]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { throw Malformed(what: "status code") }
            status = status * 10 + Int(b - UInt8(ascii: "0"))
        }
        guard status >= 100 else { throw Malformed(what: "status code") }
        var i = 12
        guard raw[i] == UInt8(ascii: " ") || raw[i] == UInt8(ascii: "\r") else { throw Malformed(what: "status line") }
        while i < n, raw[i] != UInt8(ascii: "\r") {
            guard HTTPBytes.isFieldContent(raw[i]) else { throw Malformed(what: "reason phrase") }
            i += 1
        }
        guard i + 1 < n else { return nil }
        guard raw[i + 1] == UInt8(ascii: "\n") else { throw Malformed(what: "status line") }
        i += 2

        var contentLength: Int?
        var chunked = false
        var close = minor == UInt8(ascii: "0")
        var eventStream = false
        while true {
            guard i + 1 < n else { return nil }
            if raw[i] == UInt8(ascii: "\r") {
                guard raw[i + 1] == UInt8(ascii: "\n") else { throw Malformed(what: "end of head") }
                i += 2
                break
            }
            let nameStart = i
            while i < n, raw[i] != UInt8(ascii: ":"), raw[i] > 0x20, raw[i] < 0x7F { i += 1 }
            guard i < n else { return nil }
            guard raw[i] == UInt8(ascii: ":"), i > nameStart else { throw Malformed(what: "header line") }
            let name = nameStart..<i
            i += 1
            while i < n, raw[i] == UInt8(ascii: " ") || raw[i] == UInt8(ascii: "\t") { i += 1 }
            let valueStart = i
            while i < n, raw[i] != UInt8(ascii: "\r") {
                guard HTTPBytes.isFieldContent(raw[i]) else { throw Malformed(what: "header value") }
                i += 1
            }
            guard i + 1 < n else { return nil }
            guard raw[i + 1] == UInt8(ascii: "\n") else { throw Malformed(what: "header line") }
            var valueEnd = i
            while valueEnd > valueStart, raw[valueEnd - 1] == UInt8(ascii: " ") || raw[valueEnd - 1] == UInt8(ascii: "\t") {
                valueEnd -= 1
            }
            let value = valueStart..<valueEnd
            i += 2
            if HTTPBytes.equalsLowercased(raw, name, "content-length") {
                guard contentLength == nil, let parsed = HTTPBytes.decimal(raw, value) else { throw Malformed(what: "content-length") }
                contentLength = parsed
            } else if HTTPBytes.equalsLowercased(raw, name, "transfer-encoding") {
                guard !chunked, HTTPBytes.equalsLowercased(raw, value, "chunked") else { throw Malformed(what: "transfer-encoding") }
                chunked = true
            } else if HTTPBytes.equalsLowercased(raw, name, "connection") {
                close = close || containsToken(raw, value, "close")
            } else if HTTPBytes.equalsLowercased(raw, name, "content-type") {
                // `text/event-stream`, parameters allowed.
                let media = value.lowerBound..<min(value.upperBound, value.lowerBound + 17)
                eventStream = HTTPBytes.equalsLowercased(raw, media, "text/event-stream")
                    && (value.count == 17 || raw[value.lowerBound + 17] == UInt8(ascii: ";") || raw[value.lowerBound + 17] == UInt8(ascii: " "))
            }
        }
        let head = Head(status: status, keepAlive: !close, eventStream: eventStream)
        if status < 200 {
            guard status != 101 else { throw Malformed(what: "unexpected upgrade") }
            return (head, nil, i)
        }
        if chunked, contentLength != nil { throw Malformed(what: "both content-length and chunked") }
        let framing: Framing
        if status == 204 || status == 304 {
            framing = .length(0)
        } else if chunked {
            framing = .chunked
        } else if let contentLength {
            framing = .length(contentLength)
        } else {
            framing = .untilClose
        }
        var final = head
        if case .untilClose = framing { final.keepAlive = false }
        return (final, framing, i)
    }

    /// Whether the comma-separated `range` has `token` (ASCII case-insensitive).
    private static func containsToken(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ token: StaticString) -> Bool {
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start
            while end < range.upperBound, raw[end] != UInt8(ascii: ",") { end += 1 }
            var a = start
            var b = end
            while a < b, raw[a] == UInt8(ascii: " ") || raw[a] == UInt8(ascii: "\t") { a += 1 }
            while b > a, raw[b - 1] == UInt8(ascii: " ") || raw[b - 1] == UInt8(ascii: "\t") { b -= 1 }
            if HTTPBytes.equalsLowercased(raw, a..<b, token) { return true }
            start = end + 1
        }
        return false
    }
}
