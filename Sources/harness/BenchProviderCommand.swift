//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import AsyncHTTPClient
import Foundation
import HarnessCore
import HarnessProviders
import HarnessProvidersTesting
import NIOCore
import NIOHTTP1

struct BenchProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-provider",
        abstract: "Measure the per-request overhead of a provider adapter against a local server.",
        discussion: """
            A local HTTP server answers every request with the same recorded Chat Completions \
            stream. The baseline is a bare AsyncHTTPClient request reading the whole body; the \
            adapter runs complete() and stream() on the same server, in the same run.
            """
    )

    @Option(help: "Measured requests per mode.")
    var requests: Int = 2000

    @Option(help: "Warm-up requests per mode.")
    var warmup: Int = 200

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        guard requests >= 1 else { throw ValidationError("requests must be at least 1") }
        let streamBody = Array(BenchSSECommand.stream(bytes: 2048))
        let jsonBody = Array(#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how may I assist you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}"#.utf8)
        let server = try await WireTestServer.start { request in
            request.bodyText.contains(#""stream":true"#) ? .sse(streamBody) : .json(String(decoding: jsonBody, as: UTF8.self))
        }
        defer { server.shutdown() }
        let model = OpenAIChatModel(apiKey: "sk-bench-0000000000000000", settings: ProviderSettings(baseURL: server.baseURL + "/v1", providerName: "openai"))
        let request = ModelRequest(model: "gpt-4o-mini", system: "Be brief.", messages: [.user("Hello")])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let clock = ContinuousClock()

        func measure(_ body: () async throws -> Void) async throws -> (p50: Double, mean: Double) {
            for _ in 0..<warmup { try await body() }
            var samples: [Double] = []
            samples.reserveCapacity(requests)
            for _ in 0..<requests {
                let start = clock.now
                try await body()
                let d = clock.now - start
                samples.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
            }
            samples.sort()
            return (samples[samples.count / 2], samples.reduce(0, +) / Double(samples.count))
        }

        let rawBody = OpenAIChatWire.body(for: request, stream: false).canonicalBytes
        let baseline = try await measure {
            var raw = HTTPClientRequest(url: server.baseURL + "/v1/chat/completions")
            raw.method = .POST
            raw.headers.add(name: "content-type", value: "application/json")
            raw.body = .bytes(ByteBuffer(bytes: rawBody))
            let response = try await client.execute(raw, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
        }
        let complete = try await measure { _ = try await model.complete(request) }
        let streamed = try await measure {
            for try await _ in model.stream(request) {}
        }
        try await client.shutdown()
        if json {
            print(#"{"requests":\#(requests),"baseline_p50_us":\#(baseline.p50),"complete_p50_us":\#(complete.p50),"stream_p50_us":\#(streamed.p50),"baseline_mean_us":\#(baseline.mean),"complete_mean_us":\#(complete.mean),"stream_mean_us":\#(streamed.mean)}"#)
        } else {
            print("\(requests) requests per mode to a local server (same process), p50 / mean:")
            print(String(format: "  bare AsyncHTTPClient (baseline):  %7.1f µs / %7.1f µs", baseline.p50, baseline.mean))
            print(String(format: "  OpenAIChatModel.complete:          %7.1f µs / %7.1f µs  (%.2f× baseline, +%.1f µs)", complete.p50, complete.mean, complete.p50 / baseline.p50, complete.p50 - baseline.p50))
            print(String(format: "  OpenAIChatModel.stream (%d B SSE): %7.1f µs / %7.1f µs  (%.2f× baseline, +%.1f µs)", streamBody.count, streamed.p50, streamed.mean, streamed.p50 / baseline.p50, streamed.p50 - baseline.p50))
        }
    }
}
