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
import HarnessProviders
import Testing

/// The 30 cases of ../shared/conformance/sse-whatwg (derived from the WHATWG rules), each
/// fed as given, then again one byte per read, and split at every byte boundary.
@Suite struct SSEDecoderTests {
    static var casesURL: URL {
        if let dir = ProcessInfo.processInfo.environment["HARNESS_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: dir).appendingPathComponent("sse-whatwg/cases.json")
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/conformance/sse-whatwg/cases.json")
    }

    struct Case {
        var name: String
        var reads: [[UInt8]]
        var expected: [ServerSentEvent]
        var reconnection: Int?
    }

    static func cases() throws -> [Case] {
        let json = try JSONValue(parsingBytes: try Data(contentsOf: casesURL))
        return (json["cases"]?.arrayValue ?? []).map { c in
            var reads: [[UInt8]] = []
            if let input = c["input"]?.stringValue {
                reads = [Array(input.utf8)]
            } else if let chunks = c["chunks"]?.arrayValue {
                reads = chunks.compactMap(\.stringValue).map { Array($0.utf8) }
            } else if let hex = c["chunks_hex"]?.arrayValue {
                reads = hex.compactMap(\.stringValue).map { h in
                    var bytes: [UInt8] = []
                    var i = h.startIndex
                    while i < h.endIndex, let j = h.index(i, offsetBy: 2, limitedBy: h.endIndex), let b = UInt8(h[i..<j], radix: 16) {
                        bytes.append(b)
                        i = j
                    }
                    return bytes
                }
            }
            let expected = (c["expected_events"]?.arrayValue ?? []).map { e in
                ServerSentEvent(type: e["type"]?.stringValue ?? "message", data: e["data"]?.stringValue ?? "",
                                lastEventID: e["lastEventId"]?.stringValue ?? "")
            }
            return Case(name: c["name"]?.stringValue ?? "?", reads: reads, expected: expected,
                        reconnection: c["expected_reconnection_time_ms"]?.intValue)
        }
    }

    static func decode(_ reads: [[UInt8]]) -> ([ServerSentEvent], Int?) {
        var decoder = SSEDecoder()
        var events: [ServerSentEvent] = []
        for read in reads { events += decoder.feed(read) }
        events += decoder.finish()
        return (events, decoder.reconnectionTime)
    }

    @Test func allWHATWGCasesPassHoweverTheBytesAreSplit() throws {
        let all = try Self.cases()
        #expect(all.count == 30)
        var passed = 0
        for c in all {
            let bytes = c.reads.flatMap { $0 }
            var ok = true
            // As given, one byte per read, and split in two at every boundary.
            var splits: [[[UInt8]]] = [c.reads, bytes.map { [$0] }]
            for cut in 0...bytes.count { splits.append([Array(bytes[..<cut]), Array(bytes[cut...])]) }
            for reads in splits {
                let (events, retry) = Self.decode(reads)
                if events != c.expected || (c.reconnection != nil && retry != c.reconnection) {
                    ok = false
                    Issue.record("case \(c.name): got \(events), retry \(String(describing: retry)); expected \(c.expected)")
                    break
                }
            }
            if ok { passed += 1 }
        }
        print("sse-whatwg: \(passed)/\(all.count) cases passed (each as given, byte by byte, and split at every byte)")
        #expect(passed == all.count)
    }

    @Test func dispatchAtEndOfStreamIsAnExplicitMode() {
        var strict = SSEDecoder()
        #expect(strict.feed(Array("event: message_stop\ndata: {}".utf8)).isEmpty)
        #expect(strict.finish().isEmpty)
        var lenient = SSEDecoder(endOfStream: .dispatch)
        #expect(lenient.feed(Array("event: message_stop\ndata: {}".utf8)).isEmpty)
        #expect(lenient.finish() == [ServerSentEvent(type: "message_stop", data: "{}")])
    }

    /// Random streams made of SSE pieces (fields, comments, every line ending, a BOM,
    /// NUL, invalid UTF-8), each split at random points and byte by byte, decode to the
    /// same events, reconnection time and last event id as the reference decoder (the
    /// version before the zero-copy rewrite), in both end-of-stream modes; the visitor
    /// API's raw data bytes decode to the same text.
    @Test func matchesTheReferenceDecoderOnRandomStreams() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        let pieces: [[UInt8]] = [
            "data", "data:", "data: ", "data:  x", "data: {\"a\":1}", "event:", "event: ping", "event: content_block_delta",
            "id:", "id: 7", "id", "retry: 10", "retry:10", "retry: 99999999999999999999", "retry: 1x", "retry", ":",
            ": comment", "x", "é", " ", "[DONE]", "\n", "\n", "\n", "\r", "\r\n", "\r\n", "\n\n",
        ].map { Array($0.utf8) } + [[0x00], [0xC3], [0xFF], [0xE2, 0x82], [0xEF, 0xBB, 0xBF], [0x69, 0x64, 0x3A, 0x00, 0x31]]
        for round in 0..<3000 {
            var bytes: [UInt8] = round % 5 == 0 ? [0xEF, 0xBB, 0xBF] : []
            for _ in 0..<(next() % 40) { bytes += pieces[next() % pieces.count] }
            var splits = (0..<(next() % 4)).map { _ in next() % (bytes.count + 1) }.sorted()
            if round % 7 == 0 { splits = Array(0...bytes.count) }
            for mode in [SSEDecoder.EndOfStream.discard, .dispatch] {
                var reference = ReferenceSSEDecoder(endOfStream: mode)
                var decoder = SSEDecoder(endOfStream: mode)
                var viewed = SSEDecoder(endOfStream: mode)
                var expected: [ServerSentEvent] = []
                var got: [ServerSentEvent] = []
                var gotViews: [ServerSentEvent] = []
                var start = 0
                for end in splits + [bytes.count] where end >= start {
                    let read = Array(bytes[start..<end])
                    expected += reference.feed(read)
                    got += decoder.feed(read)
                    read.withUnsafeBytes { raw in
                        viewed.feed(raw) { view in
                            gotViews.append(ServerSentEvent(
                                type: view.type, data: String(decoding: Array(view.data), as: UTF8.self), lastEventID: view.lastEventID))
                        }
                    }
                    start = end
                }
                expected += reference.finish()
                got += decoder.finish()
                viewed.finish { view in
                    gotViews.append(ServerSentEvent(
                        type: view.type, data: String(decoding: Array(view.data), as: UTF8.self), lastEventID: view.lastEventID))
                }
                let context = "round \(round), \(mode), splits \(splits): \(bytes)"
                #expect(got == expected, "\(context)")
                #expect(gotViews == expected, "\(context)")
                #expect(decoder.reconnectionTime == reference.reconnectionTime, "\(context)")
                #expect(decoder.lastEventID == reference.lastEventID, "\(context)")
                if got != expected || gotViews != expected { return }
            }
        }
    }

    /// The visitor API hands the data over raw: invalid UTF-8 is left for the reader, while
    /// the event API replaces it, as it always has.
    @Test func viewDataIsRawBytes() {
        let bytes: [UInt8] = Array("data: a".utf8) + [0xFF] + Array("b\ndata: c\n\n".utf8)
        var decoder = SSEDecoder()
        var raw: [[UInt8]] = []
        bytes.withUnsafeBytes { decoder.feed($0) { raw.append(Array($0.data)) } }
        #expect(raw == [Array("a".utf8) + [0xFF] + Array("b\nc".utf8)])
        var events = SSEDecoder()
        #expect(events.feed(bytes) == [ServerSentEvent(data: "a\u{FFFD}b\nc")])
    }
}

