//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One event of a `text/event-stream`.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field, or `message`.
    public var type: String
    /// The `data:` lines joined by LF.
    public var data: String
    /// The last event id in force when the event was dispatched.
    public var lastEventID: String

    public init(type: String = "message", data: String, lastEventID: String = "") {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
    }
}

/// An incremental decoder of `text/event-stream` bytes that follows the WHATWG rules
/// (HTML §9.2.5–9.2.6) exactly: CRLF, LF or CR line endings (a CRLF split across reads is one
/// ending), one leading BOM removed, invalid UTF-8 replaced, one space after the colon
/// stripped, `id` with NUL ignored, `retry` digits only, an event dispatched on an empty line.
///
/// Lines are split on bytes (CR and LF never occur inside a multi-byte UTF-8 sequence), so a
/// character split across reads is decoded whole.
///
/// ```swift
/// var decoder = SSEDecoder()
/// for try await chunk in body { for event in decoder.feed(chunk) { … } }
/// for event in decoder.finish() { … }
/// ```
///
/// On a hot path, ``feed(_:onEvent:)`` and ``finish(onEvent:)`` hand each event over as an
/// ``SSEEventView`` instead: no event, array or data string is allocated per event (only an
/// `event:` or `id:` field's text is made a string), and a data line that lies whole in the
/// bytes being fed is not even copied.
public struct SSEDecoder: Sendable {
    /// What happens to an event still pending when the stream ends.
    public enum EndOfStream: Sendable, Hashable {
        /// The standard's rule: discard it.
        case discard
        /// Dispatch it (the last line too), as several LLM SDKs do for streams whose final
        /// event has no blank line after it.
        case dispatch
    }

    public let endOfStream: EndOfStream
    /// The reconnection time set by the last valid `retry` field, in milliseconds.
    public private(set) var reconnectionTime: Int?
    /// The last event id string.
    public private(set) var lastEventID = ""

    /// The line read so far, when it did not end in the bytes that brought its start (and
    /// every line until the BOM check is done).
    private var line: [UInt8] = []
    private var afterCR = false
    private var bomChecked = false
    /// The data lines of the pending event, each followed by LF…
    private var data: [UInt8] = []
    /// …except its first data line while it lies whole in the bytes being fed: its offset
    /// and length there (-1 when none). It is copied into `data` before `feed` returns.
    private var borrowedOffset = -1
    private var borrowedCount = 0
    private var hasData = false
    private var eventType = ""
    private var idBuffer = ""

    public init(endOfStream: EndOfStream = .discard) {
        self.endOfStream = endOfStream
    }

    /// Takes the next bytes of the stream; returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
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
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        feed(bytes, into: &events)
        return events
    }

    /// Takes the next bytes of the stream; appends the events they complete to `events`.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ServerSentEvent]) {
        feed(bytes) { events.append(ServerSentEvent($0)) }
    }

    /// Takes the next bytes of the stream and calls `onEvent` with each event they complete,
    /// in order. The view's data is valid only during that call.
    ///
    /// If `onEvent` throws, the error ends the feed: the bytes after the event are not read.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onEvent: (SSEEventView) throws -> Void) rethrows {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        defer { keepBorrowedData(base) }
        var i = 0
        while i < count {
            if afterCR {
                afterCR = false
                if base.load(fromByteOffset: i, as: UInt8.self) == 0x0A {  // the LF of a CRLF
                    i += 1
                    continue
                }
            }
            let j = ByteScan.lineEnd(base, from: i, to: count)
            if j < count, bomChecked, line.isEmpty {
                // The whole line is here: read it in place.
                try endLine(UnsafeRawBufferPointer(start: base + i, count: j - i), at: i, input: base, onEvent)
            } else {
                if j > i {
                    line.append(contentsOf: UnsafeRawBufferPointer(start: base + i, count: j - i))
                    if !bomChecked, line.count >= 3 { checkBOM() }
                }
                guard j < count else { break }
                try endBufferedLine(input: base, onEvent)
            }
            if base.load(fromByteOffset: j, as: UInt8.self) == 0x0D { afterCR = true }
            i = j + 1
        }
    }

    /// Ends the stream; returns what the end-of-stream rule dispatches.
    public mutating func finish() -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        finish { events.append(ServerSentEvent($0)) }
        return events
    }

    /// Ends the stream; calls `onEvent` with what the end-of-stream rule dispatches.
    public mutating func finish(onEvent: (SSEEventView) throws -> Void) rethrows {
        defer {
            line.removeAll()
            data.removeAll()
            hasData = false
            eventType = ""
        }
        if endOfStream == .dispatch {
            if !line.isEmpty { try endBufferedLine(input: nil, onEvent) }
            try dispatch(input: nil, onEvent)
        }
    }

    private mutating func checkBOM() {
        bomChecked = true
        if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { line.removeFirst(3) }
    }

    /// Ends the line held in `line`.
    private mutating func endBufferedLine(input: UnsafeRawPointer?, _ onEvent: (SSEEventView) throws -> Void) rethrows {
        if !bomChecked { checkBOM() }
        // Taken out of `self` while it is read, then put back empty with its capacity.
        var current: [UInt8] = []
        swap(&current, &line)
        defer {
            current.removeAll(keepingCapacity: true)
            swap(&current, &line)
        }
        try current.withUnsafeBytes { raw in try endLine(raw, at: nil, input: input, onEvent) }
    }

    /// Ends one line. `offset` is where it starts in the bytes being fed (`input`), or nil
    /// when it is held in `line`.
    private mutating func endLine(
        _ text: UnsafeRawBufferPointer,
        at offset: Int?,
        input: UnsafeRawPointer?,
        _ onEvent: (SSEEventView) throws -> Void
    ) rethrows {
        let n = text.count
        if n == 0 {
            try dispatch(input: input, onEvent)
            return
        }
        if text[0] == UInt8(ascii: ":") { return }  // comment
        var colon = 0
        while colon < n, text[colon] != UInt8(ascii: ":") { colon += 1 }
        var valueStart = colon < n ? colon + 1 : n
        if valueStart < n, text[valueStart] == 0x20 { valueStart += 1 }
        let name = UnsafeRawBufferPointer(rebasing: text[..<colon])
        let value = UnsafeRawBufferPointer(rebasing: text[valueStart...])
        if Self.equals(name, "data") {
            if !hasData, let offset {
                borrowedOffset = offset + valueStart
                borrowedCount = value.count
            } else {
                if let input { keepBorrowedData(input) }
                data.append(contentsOf: value)
                data.append(0x0A)
            }
            hasData = true
        } else if Self.equals(name, "event") {
            eventType = Self.string(value)
        } else if Self.equals(name, "id") {
            if !value.contains(0) { idBuffer = Self.string(value) }
        } else if Self.equals(name, "retry") {
            if let ms = Self.digits(value) { reconnectionTime = ms }
        }
    }

    /// Copies the borrowed first data line, if any, into `data`.
    private mutating func keepBorrowedData(_ input: UnsafeRawPointer) {
        guard borrowedOffset >= 0 else { return }
        data.append(contentsOf: UnsafeRawBufferPointer(start: input + borrowedOffset, count: borrowedCount))
        data.append(0x0A)
        borrowedOffset = -1
    }

    private mutating func dispatch(input: UnsafeRawPointer?, _ onEvent: (SSEEventView) throws -> Void) rethrows {
        lastEventID = idBuffer
        defer {
            data.removeAll(keepingCapacity: true)
            borrowedOffset = -1
            hasData = false
            eventType = ""
        }
        guard hasData else { return }
        let type = eventType.isEmpty ? "message" : eventType
        if borrowedOffset >= 0, let input {
            let bytes = UnsafeRawBufferPointer(start: input + borrowedOffset, count: borrowedCount)
            try onEvent(SSEEventView(type: type, data: bytes, lastEventID: lastEventID))
        } else {
            let id = lastEventID
            try data.withUnsafeBytes { raw in
                // Without the LF after the last data line.
                try onEvent(SSEEventView(type: type, data: UnsafeRawBufferPointer(rebasing: raw.dropLast()), lastEventID: id))
            }
        }
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard bytes.count == n else { return false }
        let p = text.utf8Start
        for i in 0..<n where bytes[i] != p[i] { return false }
        return true
    }

    private static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
    }

    /// The value of a field made of ASCII digits only, or nil (also when it overflows).
    private static func digits(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for b in bytes {
            guard b >= 0x30, b <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b - 0x30))
            if o1 || o2 { return nil }
            value = s
        }
        return value
    }
}

extension ServerSentEvent {
    /// The event a view shows, its data decoded as UTF-8 (invalid sequences replaced).
    init(_ view: SSEEventView) {
        self.init(
            type: view.type,
            data: view.data.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) },
            lastEventID: view.lastEventID
        )
    }
}
