//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import HarnessCore
import HarnessProviders

struct BenchSSECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-sse",
        abstract: "Measure SSE decoding and event mapping throughput on a long Chat Completions stream with tool calls."
    )

    @Option(help: "Megabytes of stream to build.")
    var megabytes: Int = 32

    @Option(help: "Bytes per read fed to the decoder (as the network would deliver them).")
    var readSize: Int = 16384

    @Option(help: "Measured passes over the stream.")
    var passes: Int = 5

    @Flag(help: "Print one JSON object.")
    var json = false

    /// A stream shaped like the recorded ones in ../shared/conformance: content deltas, then
    /// two parallel tool calls whose arguments arrive in small fragments, repeated; then the
    /// finish chunk, the usage chunk and `[DONE]`.
    static func stream(bytes target: Int) -> [UInt8] {
        let head = #"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346174,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":"#
        let tail = #","logprobs":null,"finish_reason":null}]}"# + "\n\n"
        var out = ""
        out.reserveCapacity(target + 4096)
        out += head + #"{"role":"assistant","content":null,"refusal":null}"# + tail
        out += head + #"{"tool_calls":[{"index":0,"id":"call_JMW1whyEaYG438VE1OIflxA2","type":"function","function":{"name":"GetWeatherArgs","arguments":""}}]}"# + tail
        out += head + #"{"tool_calls":[{"index":1,"id":"call_DNYTawLBoN8fj3KN6qU9N1Ou","type":"function","function":{"name":"get_stock_price","arguments":""}}]}"# + tail
        out += head + #"{"tool_calls":[{"index":0,"function":{"arguments":"{\"notes\": ["}}]}"# + tail
        out += head + #"{"tool_calls":[{"index":1,"function":{"arguments":"{\"notes\": ["}}]}"# + tail
        let fragments = [#"\"Edin"#, #"burgh\", "#, #"\"GB\", "#, #"\"c\u00e9lsius\", "#]
        var i = 0
        while out.utf8.count < target {
            let fragment = fragments[i % fragments.count]
            out += head + #"{"tool_calls":[{"index":\#(i % 2),"function":{"arguments":"\#(fragment)"}}]}"# + tail
            i += 1
        }
        out += head + #"{"tool_calls":[{"index":0,"function":{"arguments":"\"end\"]}"}}]}"# + tail
        out += head + #"{"tool_calls":[{"index":1,"function":{"arguments":"\"end\"]}"}}]}"# + tail
        out += #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1727346174,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}"# + "\n\n"
        out += #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1727346174,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":149,"completion_tokens":60,"total_tokens":209}}"# + "\n\n"
        out += "data: [DONE]\n\n"
        return Array(out.utf8)
    }

    func run() throws {
        guard megabytes >= 1, readSize >= 1, passes >= 1 else { throw ValidationError("megabytes, read-size and passes must be at least 1") }
        let bytes = Self.stream(bytes: megabytes << 20)
        let clock = ContinuousClock()

        func measure(_ body: () throws -> Int) rethrows -> (mbps: Double, check: Int) {
            var best = Double.infinity
            var check = 0
            for _ in 0..<(passes + 1) {  // the first pass warms up
                let start = clock.now
                check = try body()
                let d = clock.now - start
                best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
            }
            return (Double(bytes.count) / 1_048_576 / best, check)
        }

        // Baseline: find every newline (memchr), the least any line-based decoder must do.
        let baseline = measure {
            var lines = 0
            bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var p = base
                let end = base + raw.count
                while p < end, let hit = memchr(p, 0x0A, end - p) {
                    lines += 1
                    p = UnsafeRawPointer(hit) + 1
                }
            }
            return lines
        }
        let sseOnly = measure {
            var decoder = SSEDecoder()
            var events = 0
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + readSize)
                events += decoder.feed(bytes[offset..<end]).count
                offset = end
            }
            return events + decoder.finish().count
        }
        var decoder = SSEDecoder()
        let payloads = (decoder.feed(bytes) + decoder.finish()).map(\.data).filter { $0 != "[DONE]" }
        let parseOnly = try measure {
            var n = 0
            for payload in payloads {
                if case .object(let o) = try JSONValue(parsing: payload) { n += o.count }
            }
            return n
        }
        let mapped = try measure {
            var mapper = OpenAIChatStreamMapper(provider: "openai", requestID: nil)
            var events: [ModelStreamEvent] = []
            var count = 0
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + readSize)
                try bytes[offset..<end].withUnsafeBytes { try mapper.feed($0, into: &events) }
                count += events.count
                events.removeAll(keepingCapacity: true)
                offset = end
            }
            try mapper.finish(into: &events)
            return count + events.count
        }
        if json {
            print(#"{"bytes":\#(bytes.count),"read_size":\#(readSize),"newline_scan_mbps":\#(baseline.mbps),"sse_decode_mbps":\#(sseOnly.mbps),"json_parse_mbps":\#(parseOnly.mbps),"decode_and_map_mbps":\#(mapped.mbps),"sse_events":\#(sseOnly.check),"model_events":\#(mapped.check)}"#)
        } else {
            print("stream: \(bytes.count) bytes, \(sseOnly.check) SSE events → \(mapped.check) model events; reads of \(readSize) bytes; best of \(passes)")
            print(String(format: "  newline scan (memchr, baseline): %8.0f MB/s", baseline.mbps))
            print(String(format: "  SSE decode:                     %8.0f MB/s  (%.2f× baseline)", sseOnly.mbps, sseOnly.mbps / baseline.mbps))
            print(String(format: "  JSON parse of the payloads only: %8.0f MB/s  (%.2f× baseline)", parseOnly.mbps, parseOnly.mbps / baseline.mbps))
            print(String(format: "  SSE decode + JSON + mapping:    %8.0f MB/s  (%.2f× baseline)", mapped.mbps, mapped.mbps / baseline.mbps))
        }
    }
}
