//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Byte-level pieces of HTTP/1.1 the relay's readers share (``RelayRequestHead``,
/// ``RelayResponseReader``).
enum HTTPBytes {
    /// Whether `bytes[range]`, ASCII-lowercased, is `text` (given in lowercase).
    static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        var at = range.lowerBound
        for e in expected {
            var b = bytes[at]
            if b >= UInt8(ascii: "A"), b <= UInt8(ascii: "Z") { b |= 0x20 }
            guard b == e else { return false }
            at += 1
        }
        return true
    }

    /// A `Content-Length` value: 1 to 15 digits, nothing else.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 15 else { return nil }
        var value = 0
        for i in range {
            let b = bytes[i]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
        }
        return value
    }

    /// Whether `b` may appear in a field value: visible characters, `obs-text`, space and tab
    /// (RFC 9110 §5.5).
    static func isFieldContent(_ b: UInt8) -> Bool {
        (b >= 0x20 && b != 0x7F) || b == UInt8(ascii: "\t")
    }
}
