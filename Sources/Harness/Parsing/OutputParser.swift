//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Foundation

/// Finds tool calls and JSON in model output. Never throws, on any input.
///
/// Tool calls are read from native provider fields first (they are already in the
/// ``Message``), and otherwise from text in the formats models actually write:
/// - `<tool_call>{"name": …, "arguments": {…}}</tool_call>` tags (Hermes, Qwen);
/// - fenced code blocks (```` ```json ````) holding a call or a list of calls;
/// - a bare JSON object or array of calls, in any of the common shapes
///   (`{"name","arguments"}`, `{"name","parameters"}`, `{"tool","args"}`,
///   `{"function":{"name","arguments"}}`, `{"tool_calls":[…]}`);
/// - `name({...})`, for tools the caller knows.
///
/// Almost-JSON (trailing commas, single quotes, unquoted keys) is repaired.
public struct OutputParser: Sendable {
    /// Tool names to accept; when non-empty, calls of other names are ignored (they are
    /// usually prose that happens to look like a call).
    public var knownTools: Set<String>

    public init(knownTools: Set<String> = []) {
        self.knownTools = knownTools
    }

    /// The tool calls written in `text`, in order; empty when there are none.
    public func toolCalls(in text: String) -> [ToolCall] {
        guard !text.isEmpty else { return [] }
        var found: [JSONValue] = []

        // 1. <tool_call> tags. A tag means the model chose this format: if its body does not
        // parse (cut off), there is no call — the text is not searched further, or an
        // object nested in the broken arguments could pass for a call.
        if text.contains("<tool_call>") {
            for body in Self.segments(of: text, open: "<tool_call>", close: "</tool_call>") {
                if let v = Self.json(in: String(body)) { found.append(contentsOf: Self.callObjects(v)) }
            }
            return finish(found)
        }
        // 2. Fenced blocks.
        for block in Self.fencedBlocks(in: text) {
            if let v = Self.json(in: String(block)) { found.append(contentsOf: Self.callObjects(v)) }
        }
        // 3. The whole text as JSON.
        if found.isEmpty, let v = Self.json(in: text) {
            found.append(contentsOf: Self.callObjects(v))
        }
        var calls = finish(found)
        // 4. name({...})
        if calls.isEmpty { calls = functionStyleCalls(in: text) }
        // 5. Call objects within prose: top-level objects only, and only with arguments (a
        // bare {"name": …} in prose is data, not a call).
        if calls.isEmpty {
            for v in Self.topLevelJSON(in: text) {
                found.append(contentsOf: Self.callObjects(v).filter { Self.hasArgumentsKey($0) })
            }
            calls = finish(found)
        }
        if !knownTools.isEmpty { calls = calls.filter { knownTools.contains($0.name) } }
        return calls
    }

    func finish(_ found: [JSONValue]) -> [ToolCall] {
        let calls = found.enumerated().compactMap { Self.makeCall(from: $1, index: $0) }
        return knownTools.isEmpty ? calls : calls.filter { knownTools.contains($0.name) }
    }

    static func hasArgumentsKey(_ value: JSONValue) -> Bool {
        guard let o = value.objectValue else { return false }
        return ["arguments", "parameters", "args", "input"].contains { o[$0] != nil }
    }

    /// The first JSON value in `text`: a fenced block, the whole text, or the first object
    /// or array within prose; repaired if almost-JSON. `nil` when there is none.
    public static func extractJSON(from text: String) -> JSONValue? {
        for block in fencedBlocks(in: text) {
            if let v = json(in: String(block)) { return v }
        }
        if let v = json(in: text) { return v }
        return topLevelJSON(in: text).first
    }

    /// The objects and arrays standing at the top level of prose, in order. Nothing inside
    /// another bracket is looked at, and an unclosed bracket ends the search (everything after
    /// it is inside it).
    static func topLevelJSON(in text: String, limit: Int = 16) -> [JSONValue] {
        let bytes = Array(text.utf8)
        var result: [JSONValue] = []
        var start = 0
        while start < bytes.count, result.count < limit {
            guard let open = bytes[start...].firstIndex(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") })
            else { break }
            guard let end = balancedEnd(bytes, from: open) else { break }
            let candidate = String(decoding: bytes[open...end], as: UTF8.self)
            if let v = json(in: candidate), v.objectValue != nil || v.arrayValue != nil { result.append(v) }
            start = end + 1
        }
        return result
    }

    /// Parses `text` as JSON: strictly first, then repaired.
    static func json(in text: String) -> JSONValue? {
        let trimmed = String(text.trimmingWhitespace())
        guard let first = trimmed.utf8.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            return nil
        }
        if let v = try? JSONValue(parsing: trimmed) { return v }
        return LenientJSONReader.repair(trimmed)
    }

    /// The index of the bracket closing the one at `open`, skipping strings.
    static func balancedEnd(_ bytes: [UInt8], from open: Int) -> Int? {
        var depth = 0
        var quote: UInt8? = nil
        var i = open
        while i < bytes.count {
            let b = bytes[i]
            if let q = quote {
                if b == UInt8(ascii: "\\") {
                    i += 2
                    continue
                }
                if b == q { quote = nil }
            } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                quote = b
            } else if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                depth += 1
            } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return i }
            }
            i += 1
        }
        return nil
    }

    /// The bodies between `open` and `close` markers; an unclosed last one runs to the end.
    static func segments(of text: String, open: String, close: String) -> [Substring] {
        var result: [Substring] = []
        var rest = text[...]
        while let o = rest.range(of: open) {
            let after = rest[o.upperBound...]
            if let c = after.range(of: close) {
                result.append(after[..<c.lowerBound])
                rest = after[c.upperBound...]
            } else {
                result.append(after)
                break
            }
        }
        return result
    }

    /// The bodies of ``` fenced blocks (any language tag).
    static func fencedBlocks(in text: String) -> [Substring] {
        var result: [Substring] = []
        var rest = text[...]
        while let o = rest.range(of: "```") {
            var after = rest[o.upperBound...]
            // Skip the info string (language tag) up to the end of the line.
            if let nl = after.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) {
                let tag = after[..<nl]
                if !tag.contains("{") && !tag.contains("[") { after = after[after.index(after: nl)...] }
            }
            guard let c = after.range(of: "```") else { break }
            result.append(after[..<c.lowerBound])
            rest = after[c.upperBound...]
        }
        return result
    }

    /// The call-shaped objects in `value`.
    static func callObjects(_ value: JSONValue) -> [JSONValue] {
        switch value {
        case .array(let items):
            return items.flatMap { callObjects($0) }
        case .object(let o):
            if let calls = o["tool_calls"]?.arrayValue ?? o["calls"]?.arrayValue {
                return calls.flatMap { callObjects($0) }
            }
            if var fn = o["function"]?.objectValue {
                if fn["id"] == nil, let id = o["id"] { fn["id"] = id }
                return [.object(fn)]
            }
            return callName(o) != nil ? [value] : []
        default:
            return []
        }
    }

    static func callName(_ o: [String: JSONValue]) -> String? {
        for key in ["name", "tool", "tool_name", "function_name"] {
            if let n = o[key]?.stringValue, isIdentifier(n) { return n }
        }
        return nil
    }

    static func makeCall(from value: JSONValue, index: Int) -> ToolCall? {
        guard let o = value.objectValue, let name = callName(o) else { return nil }
        let id = o["id"]?.stringValue ?? "text_call_\(index)"
        var args: JSONValue = .object([:])
        for key in ["arguments", "parameters", "args", "input"] {
            guard let a = o[key] else { continue }
            if case .string(let s) = a {
                // Arguments given as JSON text: keep the text; it is parsed strictly.
                return ToolCall(id: id, name: name, rawArguments: s)
            }
            args = a
            break
        }
        guard args.objectValue != nil else {
            return ToolCall(id: id, name: name, rawArguments: args.canonicalString)
        }
        return ToolCall(id: id, name: name, arguments: args)
    }

    /// `name({...})` and `name()` calls.
    func functionStyleCalls(in text: String) -> [ToolCall] {
        let bytes = Array(text.utf8)
        var calls: [ToolCall] = []
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "(") else {
                i += 1
                continue
            }
            // Walk back over the identifier.
            var s = i
            while s > 0, Self.isIdentifierByte(bytes[s - 1]) { s -= 1 }
            let name = String(decoding: bytes[s..<i], as: UTF8.self)
            var j = i + 1
            while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x0A { j += 1 }
            defer { i += 1 }
            guard !name.isEmpty, Self.isIdentifier(name), knownTools.isEmpty || knownTools.contains(name),
                j < bytes.count
            else { continue }
            if bytes[j] == UInt8(ascii: ")") {
                guard !knownTools.isEmpty else { continue }  // `f()` in prose is too common
                calls.append(ToolCall(id: "text_call_\(calls.count)", name: name, arguments: .object([:])))
                continue
            }
            guard bytes[j] == UInt8(ascii: "{"), let end = Self.balancedEnd(bytes, from: j) else { continue }
            var k = end + 1
            while k < bytes.count, bytes[k] == 0x20 || bytes[k] == 0x0A { k += 1 }
            guard k < bytes.count, bytes[k] == UInt8(ascii: ")") else { continue }
            let body = String(decoding: bytes[j...end], as: UTF8.self)
            guard let args = Self.json(in: body) else { continue }
            calls.append(ToolCall(id: "text_call_\(calls.count)", name: name, arguments: args))
            i = k
        }
        return calls
    }

    static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 128,
            !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")), first != UInt8(ascii: "-"),
            first != UInt8(ascii: ".")
        else { return false }
        return s.utf8.allSatisfy(isIdentifierByte)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> Substring {
        var s = self[...]
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return Substring(s)
    }
}
