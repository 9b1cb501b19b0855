//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Reads almost-JSON as models write it, never throwing.
///
/// Accepted beyond strict JSON: trailing commas, single-quoted strings, unquoted keys,
/// `//` and `/* */` comments, Python's `True`/`False`/`None`, raw newlines in strings.
/// In *partial* mode, input that stops mid-way (a stream still arriving) is closed where it
/// stops: open strings, arrays and objects end there, and a key without a value is dropped.
/// Partial results are for previews only: a tool call is never executed from one.
public enum LenientJSONReader {
    /// Repairs and parses `text`; `nil` if it is not recognisably JSON, or if anything but
    /// white space follows the value.
    public static func repair(_ text: String) -> JSONValue? {
        read(text, partial: false)
    }

    /// Parses the JSON that has arrived so far, closing whatever is still open.
    public static func partial(_ text: String) -> JSONValue? {
        read(text, partial: true)
    }

    static func read(_ text: String, partial: Bool) -> JSONValue? {
        var text = text
        return text.withUTF8 { buffer in
            var reader = Reader(bytes: buffer, partial: partial)
            reader.skipInsignificant()
            guard let value = reader.value() else { return nil }
            reader.skipInsignificant()
            if !partial && reader.index < buffer.count { return nil }
            return value
        }
    }

    struct Reader: ~Copyable {
        let bytes: UnsafeBufferPointer<UInt8>
        let partial: Bool
        var index = 0
        var depth = 0
        let maxDepth = 256
        /// Set when input ran out inside a value (partial mode).
        var truncated = false

        init(bytes: UnsafeBufferPointer<UInt8>, partial: Bool) {
            self.bytes = bytes
            self.partial = partial
        }

        var atEnd: Bool { index >= bytes.count }
        var current: UInt8 { bytes[index] }

        mutating func skipInsignificant() {
            while index < bytes.count {
                let b = bytes[index]
                if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 {
                    index += 1
                } else if b == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                    while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                } else if b == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                    index += 2
                    while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) {
                        index += 1
                    }
                    index = min(bytes.count, index + 2)
                } else {
                    return
                }
            }
        }

        mutating func value() -> JSONValue? {
            guard !atEnd else {
                truncated = true
                return nil
            }
            switch current {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""), UInt8(ascii: "'"): return string().map(JSONValue.string)
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return number()
            default:
                guard let word = identifier() else { return nil }
                switch word {
                case "true", "True": return .bool(true)
                case "false", "False": return .bool(false)
                case "null", "None", "nil": return .null
                default:
                    if partial, atEnd {
                        // A literal still arriving: "tr" -> true, "nu" -> null.
                        if "true".hasPrefix(word) { return .bool(true) }
                        if "false".hasPrefix(word) { return .bool(false) }
                        if "null".hasPrefix(word) { return .null }
                    }
                    return nil
                }
            }
        }

        mutating func identifier() -> String? {
            let start = index
            while index < bytes.count {
                let b = bytes[index]
                let isWord = (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                    || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                    || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                    || b == UInt8(ascii: "_") || b == UInt8(ascii: "$") || b >= 0x80
                guard isWord else { break }
                index += 1
            }
            guard index > start else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }

        mutating func object() -> JSONValue? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= maxDepth else { return nil }
            index += 1
            var members: [String: JSONValue] = [:]
            while true {
                skipInsignificant()
                if atEnd {
                    truncated = true
                    return partial ? .object(members) : nil
                }
                if current == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                let key: String?
                if current == UInt8(ascii: "\"") || current == UInt8(ascii: "'") {
                    key = string()
                } else {
                    key = identifier()
                }
                guard let key else { return partial && truncated ? .object(members) : nil }
                if truncated { return partial ? .object(members) : nil }
                skipInsignificant()
                if atEnd {
                    truncated = true
                    return partial ? .object(members) : nil
                }
                guard current == UInt8(ascii: ":") || current == UInt8(ascii: "=") else { return nil }
                index += 1
                skipInsignificant()
                guard let v = value() else {
                    return partial && truncated ? .object(members) : nil
                }
                members[key] = v
                if truncated { return partial ? .object(members) : nil }
                skipInsignificant()
                if atEnd {
                    truncated = true
                    return partial ? .object(members) : nil
                }
                if current == UInt8(ascii: ",") {
                    index += 1
                } else if current != UInt8(ascii: "}") {
                    return nil
                }
            }
        }

        mutating func array() -> JSONValue? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= maxDepth else { return nil }
            index += 1
            var elements: [JSONValue] = []
            while true {
                skipInsignificant()
                if atEnd {
                    truncated = true
                    return partial ? .array(elements) : nil
                }
                if current == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                }
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard let v = value() else {
                    return partial && truncated ? .array(elements) : nil
                }
                elements.append(v)
                if truncated { return partial ? .array(elements) : nil }
                skipInsignificant()
                if atEnd {
                    truncated = true
                    return partial ? .array(elements) : nil
                }
                if current == UInt8(ascii: ",") {
                    index += 1
                } else if current != UInt8(ascii: "]") {
                    return nil
                }
            }
        }

        mutating func string() -> String? {
            let quote = current
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let b = bytes[index]
                if b == quote {
                    index += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if b != UInt8(ascii: "\\") {
                    out.append(b)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { break }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var v: UInt32 = 0
                    var digits = 0
                    while digits < 4, index < bytes.count, let d = Self.hexValue(bytes[index]) {
                        v = v << 4 | d
                        index += 1
                        digits += 1
                    }
                    if digits < 4 {
                        if index >= bytes.count { break }
                        out.append(contentsOf: "\u{FFFD}".utf8)
                        continue
                    }
                    if (0xD800..<0xDC00).contains(v), index + 5 < bytes.count,
                        bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    {
                        var low: UInt32 = 0
                        var ok = true
                        for k in 0..<4 {
                            guard let d = Self.hexValue(bytes[index + 2 + k]) else { ok = false; break }
                            low = low << 4 | d
                        }
                        if ok, (0xDC00..<0xE000).contains(low) {
                            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                            index += 6
                        }
                    }
                    let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                    UTF8.encode(scalar) { out.append($0) }
                default: out.append(e)
                }
            }
            // Ran out inside the string.
            truncated = true
            return partial ? String(decoding: out, as: UTF8.self) : nil
        }

        static func hexValue(_ c: UInt8) -> UInt32? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }

        mutating func number() -> JSONValue? {
            let start = index
            while index < bytes.count {
                let b = bytes[index]
                let ok = (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-")
                    || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "e")
                    || b == UInt8(ascii: "E")
                guard ok else { break }
                index += 1
            }
            var text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if text.hasPrefix("+") { text.removeFirst() }
            if let i = Int(text) { return .integer(i) }
            if let d = Double(text), d.isFinite { return .number(d) }
            if partial, atEnd {
                // A number still arriving, such as "-", "12." or "1e": the value is not known yet.
                truncated = true
                var trimmed = text
                while let last = trimmed.last, !last.isNumber { trimmed.removeLast() }
                if let i = Int(trimmed) { return .integer(i) }
                if let d = Double(trimmed), d.isFinite { return .number(d) }
            }
            return nil
        }
    }
}
