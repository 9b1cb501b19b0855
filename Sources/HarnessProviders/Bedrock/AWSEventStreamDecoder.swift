//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Foundation

/// The value of one header of an AWS event stream message, by its wire type.
public enum AWSEventStreamHeaderValue: Sendable, Hashable {
    /// Types 0 (true) and 1 (false): no value bytes.
    case bool(Bool)
    /// Type 2: a signed byte.
    case byte(Int8)
    /// Type 3: a signed 16-bit integer.
    case short(Int16)
    /// Type 4: a signed 32-bit integer.
    case int(Int32)
    /// Type 5: a signed 64-bit integer.
    case long(Int64)
    /// Type 6: bytes with a 16-bit length.
    case bytes([UInt8])
    /// Type 7: UTF-8 text with a 16-bit length.
    case string(String)
    /// Type 8: milliseconds since the Unix epoch, signed 64-bit.
    case timestamp(Int64)
    /// Type 9: 16 bytes.
    case uuid(UUID)

    /// The text of a `string` header.
    public var stringValue: String? {
        if case .string(let s) = self { s } else { nil }
    }

    /// The wire type number.
    public var typeCode: UInt8 {
        switch self {
        case .bool(let b): b ? 0 : 1
        case .byte: 2
        case .short: 3
        case .int: 4
        case .long: 5
        case .bytes: 6
        case .string: 7
        case .timestamp: 8
        case .uuid: 9
        }
    }
}

/// One header of an AWS event stream message.
public struct AWSEventStreamHeader: Sendable, Hashable {
    public var name: String
    public var value: AWSEventStreamHeaderValue

    public init(_ name: String, _ value: AWSEventStreamHeaderValue) {
        self.name = name
        self.value = value
    }
}

/// One message of an `application/vnd.amazon.eventstream` body: headers in wire order and
/// the payload.
public struct AWSEventStreamMessage: Sendable, Hashable {
    public var headers: [AWSEventStreamHeader]
    public var payload: [UInt8]

    public init(headers: [AWSEventStreamHeader], payload: [UInt8]) {
        self.headers = headers
        self.payload = payload
    }

    /// The value of the header named `name` (names are case-sensitive on this wire).
    public subscript(header name: String) -> AWSEventStreamHeaderValue? {
        headers.first { $0.name == name }?.value
    }

    /// `:message-type` — `event`, `exception` or `error`.
    public var messageType: String? { self[header: ":message-type"]?.stringValue }
    /// `:event-type` of an event.
    public var eventType: String? { self[header: ":event-type"]?.stringValue }
    /// `:exception-type` of an exception.
    public var exceptionType: String? { self[header: ":exception-type"]?.stringValue }
}

/// A malformed or oversized event stream. Says which check failed and at which byte of the
/// stream the offending message begins.
public struct AWSEventStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which check failed.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The CRC of the 8 prelude bytes does not match the prelude CRC.
        public static let preludeChecksumMismatch = Code("prelude_checksum_mismatch")
        /// The CRC of the whole message does not match the message CRC.
        public static let messageChecksumMismatch = Code("message_checksum_mismatch")
        /// The lengths in the prelude contradict each other.
        public static let invalidLength = Code("invalid_length")
        /// The headers or the payload are larger than the decoder's limits.
        public static let limitExceeded = Code("limit_exceeded")
        /// A header is cut off, of an unknown type, not UTF-8 where text is required, or repeated.
        public static let invalidHeader = Code("invalid_header")
        /// The stream ended inside a message.
        public static let truncated = Code("truncated")
    }

    public var code: Code
    /// The stream offset of the first byte of the message concerned.
    public var offset: Int
    public var message: String

    public init(_ code: Code, offset: Int, _ message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    public var description: String { "event stream message at byte \(offset): \(message)" }
}

/// An incremental decoder of the AWS event stream framing (`application/vnd.amazon.eventstream`),
/// which Bedrock's ConverseStream, Transcribe streaming, S3 Select and others answer in.
///
/// Each message is:
///
/// ```
/// total length  UInt32 BE  (the whole message, these 4 bytes and the final CRC included)
/// headers length UInt32 BE
/// prelude CRC   UInt32 BE  (CRC-32 of the 8 bytes above)
/// headers       (name length UInt8, name, type UInt8, value) …
/// payload       total − headers − 16 bytes
/// message CRC   UInt32 BE  (CRC-32 of everything before it)
/// ```
///
/// Both CRCs are checked, the prelude's before its lengths are trusted. Bytes may arrive split
/// anywhere; messages come out as soon as they are complete. The first error is final: every
/// later call throws it again.
///
/// ```swift
/// var decoder = AWSEventStreamDecoder()
/// for try await chunk in body {
///     decoder.append(chunk)
///     while let message = try decoder.next() { … }
/// }
/// try decoder.finish()
/// ```
public struct AWSEventStreamDecoder: Sendable {
    /// The largest message parts accepted. The defaults are botocore's.
    public struct Limits: Sendable, Hashable {
        public var maxHeadersBytes: Int
        public var maxPayloadBytes: Int

        public init(maxHeadersBytes: Int = 128 * 1024, maxPayloadBytes: Int = 24 * 1024 * 1024) {
            self.maxHeadersBytes = maxHeadersBytes
            self.maxPayloadBytes = maxPayloadBytes
        }
    }

    /// Bytes of prelude (lengths and prelude CRC) plus message CRC.
    static let overhead = 16

    public let limits: Limits
    private var buffer: [UInt8] = []
    /// Where the next message begins in `buffer`.
    private var start = 0
    /// The stream offset of `buffer[start]`.
    private var offset = 0
    /// The current message's total and headers length, once its prelude is checked.
    private var prelude: (total: Int, headers: Int)?
    private var failure: AWSEventStreamError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes received but not yet part of a complete message.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds the next bytes of the stream; ``next()`` returns the messages they complete.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if failure == nil { buffer.append(contentsOf: bytes) }
    }

    /// Adds the next bytes of the stream; ``next()`` returns the messages they complete.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if failure == nil { buffer.append(contentsOf: bytes) }
    }

    /// The next complete message, or nil until more bytes arrive.
    ///
    /// Messages come out one by one, so that those before a bad one are not lost with it.
    /// - Throws: ``AWSEventStreamError`` for a bad CRC, length or header, now or ever after.
    public mutating func next() throws -> AWSEventStreamMessage? {
        if let failure { throw failure }
        let message: AWSEventStreamMessage?
        do {
            message = try parseNext()
        } catch let error as AWSEventStreamError {
            failure = error
            buffer = []
            start = 0
            throw error
        }
        // Drop consumed bytes once they are at least half the buffer: amortized O(1) per byte
        // however the stream is split.
        if start > 0, start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        return message
    }

    /// Adds `bytes` and returns every message now complete. A bad message throws, and the
    /// good ones before it in the same bytes are lost with the throw: use ``append(_:)``
    /// and ``next()`` to keep them.
    /// - Throws: ``AWSEventStreamError`` for a bad CRC, length or header, now or ever after.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [AWSEventStreamMessage] {
        append(bytes)
        var messages: [AWSEventStreamMessage] = []
        while let message = try next() { messages.append(message) }
        return messages
    }

    /// The stream ended (call after ``next()`` has returned nil).
    /// - Throws: ``AWSEventStreamError`` `truncated` if it ended inside a message.
    public func finish() throws {
        if let failure { throw failure }
        let pending = buffer.count - start
        guard pending > 0 else { return }
        if let prelude {
            throw AWSEventStreamError(
                .truncated, offset: offset,
                "the stream ended after \(pending) of the message's \(prelude.total) bytes"
            )
        }
        throw AWSEventStreamError(
            .truncated, offset: offset,
            pending < 12
                ? "the stream ended after \(pending) bytes of a message, inside its 12-byte prelude"
                : "\(pending) bytes were never read: call next() until it returns nil before finish()"
        )
    }

    private mutating func parseNext() throws -> AWSEventStreamMessage? {
        let available = buffer.count - start
        if prelude == nil {
            guard available >= 12 else { return nil }
            prelude = try checkPrelude()
        }
        guard let (total, headersLength) = prelude, available >= total else { return nil }
        let message = try buffer.withUnsafeBytes { raw -> AWSEventStreamMessage in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + total)])
            let expected = Self.uint32(bytes, at: total - 4)
            let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(total - 4)]))
            guard expected == computed else {
                throw AWSEventStreamError(
                    .messageChecksumMismatch, offset: offset,
                    "message CRC mismatch: the message says \(Self.hex(expected)), its \(total - 4) bytes give \(Self.hex(computed))"
                )
            }
            let headers = try parseHeaders(UnsafeRawBufferPointer(rebasing: bytes[12..<(12 + headersLength)]))
            return AWSEventStreamMessage(headers: headers, payload: Array(bytes[(12 + headersLength)..<(total - 4)]))
        }
        start += total
        offset += total
        prelude = nil
        return message
    }

    private func checkPrelude() throws -> (total: Int, headers: Int) {
        try buffer.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + 12)])
            let total = Int(Self.uint32(bytes, at: 0))
            let headers = Int(Self.uint32(bytes, at: 4))
            let expected = Self.uint32(bytes, at: 8)
            let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<8]))
            guard expected == computed else {
                throw AWSEventStreamError(
                    .preludeChecksumMismatch, offset: offset,
                    "prelude CRC mismatch: the prelude says \(Self.hex(expected)), its 8 bytes give \(Self.hex(computed))"
                        + " (not an event stream, or corrupted)"
                )
            }
            guard total >= Self.overhead else {
                throw AWSEventStreamError(
                    .invalidLength, offset: offset,
                    "total length \(total) is less than the \(Self.overhead) bytes of prelude and message CRC"
                )
            }
            guard headers <= limits.maxHeadersBytes else {
                throw AWSEventStreamError(
                    .limitExceeded, offset: offset,
                    "headers length \(headers) exceeds the limit of \(limits.maxHeadersBytes) bytes"
                )
            }
            guard headers <= total - Self.overhead else {
                throw AWSEventStreamError(
                    .invalidLength, offset: offset,
                    "headers length \(headers) does not fit in a message of total length \(total)"
                )
            }
            let payload = total - headers - Self.overhead
            guard payload <= limits.maxPayloadBytes else {
                throw AWSEventStreamError(
                    .limitExceeded, offset: offset,
                    "payload length \(payload) exceeds the limit of \(limits.maxPayloadBytes) bytes"
                )
            }
            return (total, headers)
        }
    }

    private func parseHeaders(_ bytes: UnsafeRawBufferPointer) throws -> [AWSEventStreamHeader] {
        var headers: [AWSEventStreamHeader] = []
        var i = 0
        func fail(_ text: String) -> AWSEventStreamError {
            AWSEventStreamError(.invalidHeader, offset: offset, "header \(headers.count + 1): \(text)")
        }
        func take(_ n: Int, _ what: String) throws -> UnsafeRawBufferPointer {
            guard bytes.count - i >= n else {
                throw fail("\(what) needs \(n) bytes, \(bytes.count - i) remain in the headers section")
            }
            defer { i += n }
            return UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)])
        }
        while i < bytes.count {
            let nameLength = Int(try take(1, "the name length")[0])
            guard let name = String(validating: try take(nameLength, "the name"), as: UTF8.self) else {
                throw fail("the name is not UTF-8")
            }
            let type = try take(1, "the value type")[0]
            let value: AWSEventStreamHeaderValue
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2: value = .byte(Int8(bitPattern: try take(1, "a byte value")[0]))
            case 3: value = .short(Int16(bitPattern: UInt16(Self.uint(try take(2, "a short value")))))
            case 4: value = .int(Int32(bitPattern: UInt32(Self.uint(try take(4, "an int value")))))
            case 5: value = .long(Int64(bitPattern: Self.uint(try take(8, "a long value"))))
            case 6, 7:
                let length = Int(Self.uint(try take(2, "the value length")))
                let raw = try take(length, "the value")
                if type == 6 {
                    value = .bytes(Array(raw))
                } else {
                    guard let text = String(validating: raw, as: UTF8.self) else {
                        throw fail("the string value of '\(name)' is not UTF-8")
                    }
                    value = .string(text)
                }
            case 8: value = .timestamp(Int64(bitPattern: Self.uint(try take(8, "a timestamp value"))))
            case 9:
                let raw = try take(16, "a uuid value")
                value = .uuid(UUID(uuid: (
                    raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
                    raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]
                )))
            default:
                throw fail("unknown value type \(type) for '\(name)'")
            }
            if headers.contains(where: { $0.name == name }) { throw fail("'\(name)' appears twice") }
            headers.append(AWSEventStreamHeader(name, value))
        }
        return headers
    }

    static func uint32(_ bytes: UnsafeRawBufferPointer, at i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }

    static func uint(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
