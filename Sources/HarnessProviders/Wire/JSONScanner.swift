//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

package import HarnessCore

/// A strict, allocation-free reader over JSON bytes for the hot path of stream mappers: it
/// visits an object's members and reads only the values asked for, skipping (and fully
/// validating) the rest. A chunk it accepts is one ``JSONValue/init(parsing:maxDepth:)``
/// accepts, and the reverse: malformed JSON anywhere in it is an error, not ignored.
///
/// It reads raw bytes: invalid UTF-8 inside a string is accepted, as the parser accepts it,
/// and replaced when the string is decoded, as the parser replaces it.
///
/// Building a whole ``JSONValue`` per chunk hashes every key into a dictionary; a streamed
/// chunk is read for three or four fields, so this reads those and nothing else.
package struct JSONScanner {
    package struct Failure: Error {
        package var message: String
        package var offset: Int
    }

    package let bytes: UnsafeBufferPointer<UInt8>
    package var index = 0
    private var depth = 0
    private static let maxDepth = 512

    package init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    package func fail(_ message: String) -> Failure { Failure(message: message, offset: index) }

    package mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// The next non-whitespace byte, not consumed.
    package mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// Checks that nothing but whitespace follows the document.
    package mutating func end() throws {
        skipWhitespace()
        if index < bytes.count { throw fail("unexpected text after the value") }
    }

    /// Visits the members of the object that starts here. `member` gets the raw key bytes
    /// (escapes undecoded) and returns whether it read the value; if not, it is skipped.
    package mutating func object(_ member: (inout JSONScanner, UnsafeBufferPointer<UInt8>) throws -> Bool) throws {
        guard peek() == UInt8(ascii: "{") else { throw fail("expected an object") }
        index += 1
        try enter()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let start = index + 1
            try skipString()
            let key = UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)])
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            if try !member(&self, key) { try skipValue() }
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    /// Visits the elements of the array that starts here; `element` must read each one.
    package mutating func array(_ element: (inout JSONScanner) throws -> Void) throws {
        guard peek() == UInt8(ascii: "[") else { throw fail("expected an array") }
        index += 1
        try enter()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    /// Whether the value here is `null` (consumed if so).
    package mutating func null() throws -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// A string, or nil for `null`.
    package mutating func stringOrNull() throws -> String? {
        if try null() { return nil }
        guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = index
        let escaped = try skipString()
        if !escaped {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<(index - 1)]), as: UTF8.self)
        }
        // Escapes: let the parser's own string decoder decode them.
        return (try? JSONValue.decodeString(literal: UnsafeBufferPointer(rebasing: bytes[start..<index]))) ?? ""
    }

    /// Skips a string or `null`, validating it (and failing as ``stringOrNull()`` does on
    /// anything else) without decoding it.
    package mutating func skipStringOrNull() throws {
        if try null() { return }
        guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string") }
        try skipString()
    }

    /// An integer, or nil for `null` or another kind of number.
    package mutating func intOrNull() throws -> Int? {
        if try null() { return nil }
        let start = index
        try skipNumber()
        var value = 0
        var negative = false
        for i in start..<index {
            let b = bytes[i]
            if b == UInt8(ascii: "-") {
                negative = true
                continue
            }
            guard b >= 0x30, b <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b - 0x30))
            if o1 || o2 { return nil }
            value = s
        }
        return negative ? -value : value
    }

    /// The value here as a whole ``JSONValue`` (for rare members such as `usage`).
    package mutating func value() throws -> JSONValue {
        skipWhitespace()
        let start = index
        try skipValue()
        do {
            return try JSONValue(parsingBytes: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        } catch {
            if let error = error as? JSONParseError { throw Failure(message: error.message, offset: start + error.offset) }
            throw error
        }
    }

    /// Skips one value, validating it.
    package mutating func skipValue() throws {
        guard let b = peek() else { throw fail("unexpected end of input") }
        switch b {
        case UInt8(ascii: "{"): try object { _, _ in false }
        case UInt8(ascii: "["): try array { s throws in try s.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw fail("unexpected character")
        }
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth)") }
    }

    private mutating func literal(_ text: StaticString) throws {
        let n = text.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw fail("unexpected end of input") }
        let p = text.utf8Start
        for i in 0..<n where bytes[index + i] != p[i] { throw fail("invalid literal") }
        index += n
    }

    /// Skips the string starting at its opening quote; returns whether it had escapes.
    ///
    /// Eight bytes at a time until a quote, a backslash or a control character; bytes of
    /// 0x80 and up are not looked at (a string's invalid UTF-8 is repaired when it is decoded).
    @discardableResult
    private mutating func skipString() throws -> Bool {
        guard let base = bytes.baseAddress else { throw fail("unexpected end of input") }
        let raw = UnsafeRawPointer(base)
        let end = bytes.count
        var i = index + 1
        var escaped = false
        defer { index = i }
        while i < end {
            if i &+ 8 <= end {
                let w = ByteScan.word(raw, i)
                let hits = ByteScan.bytes(w, equalTo: UInt8(ascii: "\"")) | ByteScan.bytes(w, equalTo: UInt8(ascii: "\\"))
                    | ByteScan.bytes(w, below: 0x20)
                if hits == 0 {
                    i &+= 8
                    continue
                }
                i &+= hits.trailingZeroBitCount &>> 3
            }
            let b = base[i]
            if b == UInt8(ascii: "\"") {
                i &+= 1
                return escaped
            }
            if b == UInt8(ascii: "\\") {
                escaped = true
                i &+= 1
                guard i < end else { break }
                switch base[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i &+= 1
                case UInt8(ascii: "u"):
                    guard i + 4 < end else { throw Failure(message: "truncated \\u escape", offset: i) }
                    for k in 1...4 {
                        let h = base[i + k]
                        let isHex = (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66)
                        if !isHex { throw Failure(message: "invalid hex digit in \\u escape", offset: i) }
                    }
                    i &+= 5
                default:
                    throw Failure(message: "invalid escape", offset: i)
                }
                continue
            }
            if b < 0x20 { throw Failure(message: "control character in string", offset: i) }
            i &+= 1
        }
        throw Failure(message: "unterminated string", offset: end)
    }

    private mutating func skipNumber() throws {
        func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw fail("truncated number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if bytes[index] >= 0x31, bytes[index] <= 0x39 {
            while index < bytes.count, digit(bytes[index]) { index += 1 }
        } else {
            throw fail("invalid number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, digit(bytes[index]) { index += 1 }
            if index == start { throw fail("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let start = index
            while index < bytes.count, digit(bytes[index]) { index += 1 }
            if index == start { throw fail("expected digits in exponent") }
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes spell `text`.
    package func equals(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        let p = text.utf8Start
        for i in 0..<count where self[i] != p[i] { return false }
        return true
    }
}
