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

/// Measures conversation-store appends per second and load-last-50 latency.
struct BenchStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store",
        abstract: "Measure turn appends per second and load-last-50 latency on a store."
    )

    @Option(help: "The store: sqlite:PATH or a postgres:// URL.")
    var storage: String

    @Option(help: "Turns to append.")
    var appends: Int = 5000

    @Option(help: "Concurrent writers (each on its own conversation).")
    var writers: Int = 1

    @Option(help: "Loads of the last 50 turns to time.")
    var loads: Int = 2000

    func run() async throws {
        try await Stores.withConversationStore(storage) { store in
            let run = "bench-\(Int(Date().timeIntervalSince1970))"
            let message = Message.assistant(
                "The weather in Paris is 18 °C and cloudy.",
                toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: ["city": "Paris"])]
            )
            let usage = Usage(inputTokens: 120, outputTokens: 30)
            let clock = ContinuousClock()
            let perWriter = max(1, appends / max(1, writers))
            let start = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<max(1, writers) {
                    group.addTask {
                        for _ in 0..<perWriter {
                            try await store.append(Turn(message: message, model: "m", usage: usage), to: "\(run)-\(w)", tenant: "bench")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = clock.now - start
            let total = perWriter * max(1, writers)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            var samples: [Double] = []
            for _ in 0..<loads {
                let t = clock.now
                let turns = try await store.load(conversationID: "\(run)-0", tenant: "bench", last: 50)
                let d = clock.now - t
                guard turns.count == min(50, perWriter) else { throw CLIError("load returned \(turns.count) turns") }
                samples.append(Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
            }
            samples.sort()
            let p50 = samples.isEmpty ? 0 : samples[samples.count / 2]
            let p99 = samples.isEmpty ? 0 : samples[min(samples.count - 1, samples.count * 99 / 100)]
            print(String(format: "%@: %d appends by %d writer(s) in %.2f s = %.0f appends/s; load last 50: p50 %.0f µs, p99 %.0f µs",
                         storage.hasPrefix("postgres") ? "postgres" : storage, total, max(1, writers), seconds, Double(total) / seconds, p50, p99))
        }
    }
}
