//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessProviders

/// The SSE decoder as it was before it gained the zero-copy visitor API (a byte-for-byte copy
/// of that version, renamed): the reference the differential test in SSEDecoderTests checks
/// the current decoder against.
struct ReferenceSSEDecoder {
    let endOfStream: SSEDecoder.EndOfStream
    /// The reconnection time set by the last valid `retry` field, in milliseconds.
    private(set) var reconnectionTime: Int?
    /// The last event id string.
    private(set) var lastEventID = ""

    private var line: [UInt8] = []
    private var afterCR = false
    private var bomChecked = false
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType = ""
    private var idBuffer = ""

    init(endOfStream: SSEDecoder.EndOfStream = .discard) {
        self.endOfStream = endOfStream
    }

    /// Takes the next bytes of the stream; returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            feed(UnsafeRawBufferPointer(buffer), into: &events)
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { feed($0, into: &events) }
        }
        return events
    }

    /// Takes the next bytes of the stream; returns the events they complete.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        feed(bytes, into: &events)
        return events
    }

    /// Takes the next bytes of the stream; appends the events they complete to `events`.
    ///
    /// Lines are found by scanning for CR and LF and copied into the line buffer in one
    /// piece each, not byte by byte.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ServerSentEvent]) {
        var i = 0
        let count = bytes.count
        while i < count {
            if afterCR {
                afterCR = false
                if bytes[i] == 0x0A {  // the LF of a CRLF
                    i += 1
                    continue
                }
            }
            var j = i
            while j < count {
                let b = bytes[j]
                if b == 0x0A || b == 0x0D { break }
                j += 1
            }
            if j > i {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<j]))
                if !bomChecked, line.count >= 3 { checkBOM() }
            }
            guard j < count else { break }
            endLine(into: &events)
            if bytes[j] == 0x0D { afterCR = true }
            i = j + 1
        }
    }

    /// Ends the stream; returns what the end-of-stream rule dispatches.
    mutating func finish() -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if endOfStream == .dispatch {
            if !line.isEmpty { endLine(into: &events) }
            dispatch(into: &events)
        }
        line.removeAll()
        data.removeAll()
        hasData = false
        eventType = ""
        return events
    }

    private mutating func checkBOM() {
        bomChecked = true
        if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { line.removeFirst(3) }
    }

    private mutating func endLine(into events: inout [ServerSentEvent]) {
        if !bomChecked { checkBOM() }
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }  // comment
        let name: [UInt8]
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = Array(line[..<colon])
            value = line[(colon + 1)...]
            if value.first == 0x20 { value = value.dropFirst() }
        } else {
            name = line
            value = []
        }
        switch String(decoding: name, as: UTF8.self) {
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "data":
            data.append(contentsOf: value)
            data.append(0x0A)
            hasData = true
        case "id":
            if !value.contains(0) { idBuffer = String(decoding: value, as: UTF8.self) }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let ms = Int(String(decoding: value, as: UTF8.self)) {
                reconnectionTime = ms
            }
        default:
            break
        }
    }

    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        lastEventID = idBuffer
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            eventType = ""
        }
        guard hasData, !data.isEmpty else { return }
        if data.last == 0x0A { data.removeLast() }
        events.append(ServerSentEvent(
            type: eventType.isEmpty ? "message" : eventType,
            data: String(decoding: data, as: UTF8.self),
            lastEventID: lastEventID
        ))
    }
}
