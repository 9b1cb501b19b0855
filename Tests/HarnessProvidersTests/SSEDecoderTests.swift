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
}
