//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore

/// Writes AWS event stream messages (`application/vnd.amazon.eventstream`), the inverse of
/// ``AWSEventStreamDecoder``: for a gateway answering in Bedrock's format, and for tests.
///
/// ```swift
/// let frame = try AWSEventStreamEncoder.event("contentBlockDelta", json: #"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#)
/// ```
public enum AWSEventStreamEncoder {
    /// One message with `headers` (in this order) and `payload`.
    /// - Throws: ``AWSEventStreamError`` `invalidHeader` for a name longer than 255 bytes, or a
    ///   string or bytes value longer than 65,535; `limitExceeded` past the decoder's default limits.
    public static func encode(headers: [AWSEventStreamHeader], payload: [UInt8]) throws -> [UInt8] {
        var headerBytes: [UInt8] = []
        for header in headers {
            let name = Array(header.name.utf8)
            guard name.count <= 255 else {
                throw AWSEventStreamError(.invalidHeader, offset: 0, "header name '\(header.name.prefix(40))…' is longer than 255 bytes")
            }
            headerBytes.append(UInt8(name.count))
            headerBytes += name
            headerBytes.append(header.value.typeCode)
            switch header.value {
            case .bool: break
            case .byte(let v): headerBytes.append(UInt8(bitPattern: v))
            case .short(let v): append(UInt64(UInt16(bitPattern: v)), bytes: 2, to: &headerBytes)
            case .int(let v): append(UInt64(UInt32(bitPattern: v)), bytes: 4, to: &headerBytes)
            case .long(let v), .timestamp(let v): append(UInt64(bitPattern: v), bytes: 8, to: &headerBytes)
            case .bytes(let value):
                try appendVariable(value, name: header.name, to: &headerBytes)
            case .string(let value):
                try appendVariable(Array(value.utf8), name: header.name, to: &headerBytes)
            case .uuid(let uuid):
                withUnsafeBytes(of: uuid.uuid) { headerBytes.append(contentsOf: $0) }
            }
        }
        let limits = AWSEventStreamDecoder.Limits()
        guard headerBytes.count <= limits.maxHeadersBytes, payload.count <= limits.maxPayloadBytes else {
            throw AWSEventStreamError(.limitExceeded, offset: 0, "headers of \(headerBytes.count) or payload of \(payload.count) bytes exceed the limits")
        }
        let total = headerBytes.count + payload.count + AWSEventStreamDecoder.overhead
        var out: [UInt8] = []
        out.reserveCapacity(total)
        append(UInt64(total), bytes: 4, to: &out)
        append(UInt64(headerBytes.count), bytes: 4, to: &out)
        append(UInt64(CRC32.checksum(out)), bytes: 4, to: &out)
        out += headerBytes
        out += payload
        append(UInt64(CRC32.checksum(out)), bytes: 4, to: &out)
        return out
    }

    /// An event, as Bedrock sends them: `:event-type`, `:content-type`, `:message-type: event`.
    public static func event(_ type: String, json: String) throws -> [UInt8] {
        try encode(
            headers: [
                AWSEventStreamHeader(":event-type", .string(type)),
                AWSEventStreamHeader(":content-type", .string("application/json")),
                AWSEventStreamHeader(":message-type", .string("event")),
            ],
            payload: Array(json.utf8)
        )
    }

    /// An exception, as Bedrock sends them mid-stream: `:exception-type` (the stream member
    /// name, such as `throttlingException`), `:content-type`, `:message-type: exception`, and
    /// `{"message": …}`.
    public static func exception(_ type: String, message: String) throws -> [UInt8] {
        return try encode(
            headers: [
                AWSEventStreamHeader(":exception-type", .string(type)),
                AWSEventStreamHeader(":content-type", .string("application/json")),
                AWSEventStreamHeader(":message-type", .string("exception")),
            ],
            payload: JSONValue.object(["message": .string(message)]).canonicalBytes
        )
    }

    private static func appendVariable(_ value: [UInt8], name: String, to out: inout [UInt8]) throws {
        guard value.count <= Int(UInt16.max) else {
            throw AWSEventStreamError(.invalidHeader, offset: 0, "the value of header '\(name)' is longer than 65535 bytes")
        }
        append(UInt64(value.count), bytes: 2, to: &out)
        out += value
    }

    private static func append(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for k in stride(from: bytes - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
    }
}
