//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Splits a newline-delimited JSON stream (`application/x-ndjson`, as Ollama sends) into
/// lines, whatever way the network cuts it.
///
/// Lines end at LF; a CR before the LF is dropped, and so are blank lines. Splitting is done
/// on bytes (LF never occurs inside a multi-byte UTF-8 sequence), so a character cut across
/// two reads is decoded whole. ``finish()`` returns a last line that has no newline after it.
///
/// ```swift
/// var splitter = NDJSONLineSplitter()
/// for try await chunk in body { for line in splitter.feed(chunk) { … } }
/// if let last = splitter.finish() { … }
/// ```
public struct NDJSONLineSplitter: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Whether bytes of an unfinished line are waiting.
    public var hasPartialLine: Bool { !pending.isEmpty }

    /// Takes the next bytes; returns the lines they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == 0x0A {
                if let line = takeLine() { lines.append(line) }
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    /// The stream ended: the last line, if it had no newline after it.
    public mutating func finish() -> String? {
        takeLine()
    }

    private mutating func takeLine() -> String? {
        defer { pending.removeAll(keepingCapacity: true) }
        var end = pending.endIndex
        if end > 0, pending[end - 1] == 0x0D { end -= 1 }
        let slice = pending[..<end]
        guard slice.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return nil }
        return String(decoding: slice, as: UTF8.self)
    }
}
