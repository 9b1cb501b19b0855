//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import HarnessProviders

/// What ``GatewayRelay`` reads from a request and an answer, and how it rewrites them: the
/// JSON is scanned (strictly: malformed JSON anywhere is refused) for the few top-level
/// members it needs, and a member's value is replaced in place, the rest of the bytes kept
/// as they came. No tree is built.
///
/// A document whose members of interest are repeated, or whose keys carry escapes, is
/// refused as well; the relay then hands the request to the full path, which decides.
enum RelayJSON {
    /// The members of a chat request the relay needs.
    struct Request: Equatable {
        var model: String
        /// The bytes of the `model` value, quotes included.
        var modelRange: Range<Int>
        var stream: Bool
        /// `messages` is a non-empty array.
        var hasMessages: Bool
        /// The bytes of the `stream_options` value (an object), if the request has one.
        var streamOptionsRange: Range<Int>? = nil
        /// `stream_options.include_usage`.
        var includeUsage = false
        /// Where a member can be added: just after the object's `{`.
        var memberInsertion = 1
    }

    /// A change to a document's bytes.
    enum Edit {
        /// The range's bytes become this text, as a JSON string.
        case string(String)
        /// The range's bytes become these bytes, as they are.
        case raw(StaticString)
    }

    /// The members of a chat completion the relay rewrites or reads.
    struct Answer {
        var idRange: Range<Int>?
        var modelRange: Range<Int>?
        var hasChoices: Bool
        var usage: Usage?
    }

    /// Scans a chat request; nil when it is not valid JSON, not an object, lacks a string
    /// `model`, or repeats a member the relay reads.
    static func request(_ bytes: UnsafeBufferPointer<UInt8>) -> Request? {
        var model: String?
        var modelRange: Range<Int>?
        var stream: Bool?
        var messages: Bool?
        var streamOptions: Range<Int>?
        var includeUsage: Bool?
        var scanner = JSONScanner(bytes)
        do {
            try scanner.object { s, key in
                guard !key.contains(UInt8(ascii: "\\")) else { throw s.fail("escaped key") }
                if key.equals("model") {
                    guard model == nil, s.peek() == UInt8(ascii: "\"") else { throw s.fail("model") }
                    let start = s.index
                    model = try s.stringOrNull()
                    modelRange = start..<s.index
                    return true
                }
                if key.equals("stream") {
                    guard stream == nil else { throw s.fail("stream repeated") }
                    switch s.peek() {
                    case UInt8(ascii: "t"): stream = true
                    case UInt8(ascii: "f"), UInt8(ascii: "n"): stream = false
                    default: throw s.fail("stream")
                    }
                    return false
                }
                if key.equals("stream_options") {
                    guard streamOptions == nil, s.peek() == UInt8(ascii: "{") else { throw s.fail("stream_options") }
                    let start = s.index
                    try s.object { s, key in
                        guard !key.contains(UInt8(ascii: "\\")) else { throw s.fail("escaped key") }
                        guard key.equals("include_usage") else { return false }
                        guard includeUsage == nil else { throw s.fail("include_usage repeated") }
                        switch s.peek() {
                        case UInt8(ascii: "t"): includeUsage = true
                        case UInt8(ascii: "f"): includeUsage = false
                        default: throw s.fail("include_usage")  // the full path names the type it wants
                        }
                        return false
                    }
                    streamOptions = start..<s.index
                    return true
                }
                if key.equals("messages") {
                    guard messages == nil, s.peek() == UInt8(ascii: "[") else { throw s.fail("messages") }
                    var count = 0
                    try s.array { s in
                        count += 1
                        try s.skipValue()
                    }
                    messages = count > 0
                    return true
                }
                return false
            }
            try scanner.end()
        } catch {
            return nil
        }
        guard let model, let modelRange else { return nil }
        var opening = 0
        while opening < bytes.count, bytes[opening] != UInt8(ascii: "{") { opening += 1 }
        return Request(
            model: model, modelRange: modelRange, stream: stream ?? false, hasMessages: messages ?? false,
            streamOptionsRange: streamOptions, includeUsage: includeUsage ?? false, memberInsertion: opening + 1
        )
    }

    /// Scans an upstream's chat completion; nil when it is not valid JSON, not an object, or
    /// repeats a member the relay reads.
    static func answer(_ bytes: UnsafeBufferPointer<UInt8>) -> Answer? {
        var answer = Answer(idRange: nil, modelRange: nil, hasChoices: false, usage: nil)
        var seen: UInt8 = 0  // one bit per member of interest
        var scanner = JSONScanner(bytes)
        do {
            try scanner.object { s, key in
                guard !key.contains(UInt8(ascii: "\\")) else { throw s.fail("escaped key") }
                let bit: UInt8
                if key.equals("id") { bit = 1 } else if key.equals("model") { bit = 2 } else if key.equals("choices") {
                    bit = 4
                } else if key.equals("usage") { bit = 8 } else { return false }
                guard seen & bit == 0 else { throw s.fail("member repeated") }
                seen |= bit
                switch bit {
                case 1, 2:
                    guard s.peek() == UInt8(ascii: "\"") else { return false }
                    let start = s.index
                    try s.skipValue()
                    if bit == 1 { answer.idRange = start..<s.index } else { answer.modelRange = start..<s.index }
                    return true
                case 4:
                    answer.hasChoices = s.peek() == UInt8(ascii: "[")
                    return false
                default:
                    guard s.peek() == UInt8(ascii: "{") else { return false }
                    let start = s.index
                    try s.skipValue()
                    answer.usage = Self.usage(UnsafeBufferPointer(rebasing: bytes[start..<s.index]))
                    return true
                }
            }
            try scanner.end()
        } catch {
            return nil
        }
        return answer
    }

    /// An OpenAI `usage` object (valid JSON) as ``OpenAIChatWire/usage(_:)`` reads it
    /// (``OpenAIChatWire/usage(bytes:)``).
    static func usage(_ bytes: UnsafeBufferPointer<UInt8>) -> Usage {
        OpenAIChatWire.usage(bytes: bytes)
    }

    /// `bytes` with each edit made. Ranges must not overlap (an empty range inserts).
    static func editing(_ bytes: UnsafeBufferPointer<UInt8>, _ edits: [(Range<Int>, Edit)], into out: inout [UInt8]) {
        var at = 0
        for (range, edit) in edits.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[at..<range.lowerBound]))
            switch edit {
            case .string(let text): JSONValue.writeString(text, into: &out)
            case .raw(let text): text.withUTF8Buffer { out.append(contentsOf: $0) }
            }
            at = range.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[at...]))
    }

    /// `bytes` with each range replaced by its text (as a JSON string). Ranges must not overlap.
    static func replacing(_ bytes: UnsafeBufferPointer<UInt8>, _ replacements: [(Range<Int>, String)], into out: inout [UInt8]) {
        editing(bytes, replacements.map { ($0.0, .string($0.1)) }, into: &out)
    }
}
