//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import CoreMetrics
import Harness
import HarnessCore
import HarnessTesting
import Foundation
import InMemoryTracing
import Tracing

/// Measures orchestrator overhead per iteration on the scripted 10-iteration conversation
/// that `Benchmarks/compare_frameworks.py` also plays on other frameworks.
struct BenchLoopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-loop",
        abstract: "Measure the agent loop's overhead per iteration (scripted model, trivial tool)."
    )

    @Option(help: "Model calls per run (the last answers with text).")
    var iterations: Int = 10

    @Option(help: "Measured runs.")
    var runs: Int = 2000

    @Option(help: "Warm-up runs.")
    var warmup: Int = 200

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Stream the run (events, early tool starts) instead of run().")
    var stream = false

    @Flag(help: "Run the tool without a timeout (no deadline race).")
    var noToolTimeout = false

    /// Which tracer the orchestrator reports to.
    enum TracerChoice: String, ExpressibleByArgument, CaseIterable {
        /// The process-wide tracer (a no-op unless bootstrapped), as before this option.
        case global
        /// An explicit no-op tracer.
        case noop
        /// swift-distributed-tracing's in-memory tracer: every span recorded (cleared between runs).
        case memory
        /// noop and memory alternating run by run, in one process; prints both and the ratio.
        case compare
    }

    @Option(help: "Tracer: global, noop, memory, or compare (noop vs memory, alternating).")
    var tracer: TracerChoice = .global

    func run() async throws {
        guard iterations >= 1, runs >= 1 else { throw ValidationError("iterations and runs must be at least 1") }
        let steps: [ScriptedModel.Step] = (1..<iterations).map { i in
            .toolCalls([ToolCall(id: "call_\(i)", name: "lookup", arguments: ["key": .string("k\(i)")])], usage: Usage(inputTokens: 1, outputTokens: 1))
        } + [.text("done", usage: Usage(inputTokens: 1, outputTokens: 1))]
        let model = ScriptedModel(steps, recordsRequests: false)
        let lookup = FunctionTool(
            name: "lookup", description: "Looks a key up.",
            inputSchema: ["type": "object", "properties": ["key": ["type": "string"]], "required": ["key"]]
        ) { args, _ in
            ToolOutput("value-" + (args["key"]?.stringValue ?? ""))
        }
        let agent = Agent(
            name: "bench", model: model, modelID: "scripted", tools: [lookup],
            policy: RunPolicy(toolTimeout: noToolTimeout ? nil : .seconds(60))
        )
        let memory = InMemoryTracer()
        let noop = Orchestrator(
            configuration: .init(observability: Observability(tracer: NoOpTracer(), metricsFactory: NOOPMetricsHandler.instance))
        )
        let recording = Orchestrator(
            configuration: .init(observability: Observability(tracer: memory, metricsFactory: NOOPMetricsHandler.instance))
        )
        let clock = ContinuousClock()
        var samples: [Double] = []
        var memorySamples: [Double] = []
        samples.reserveCapacity(runs)
        var spansPerRun = 0
        for n in 0..<(warmup + runs) {
            let usesMemory = tracer == .memory || (tracer == .compare && n % 2 == 1)
            let orchestrator = tracer == .global ? Orchestrator() : usesMemory ? recording : noop
            model.reset()
            let start = clock.now
            let result: RunResult
            if stream {
                result = try await orchestrator.stream(agent, input: "go").result()
            } else {
                result = try await orchestrator.run(agent, input: "go")
            }
            let elapsed = clock.now - start
            guard result.iterations == iterations, result.toolCalls.count == iterations - 1, result.finalText == "done" else {
                throw ValidationError("run \(n) did not play the script: \(result.iterations) iterations, \(result.toolCalls.count) tool calls, '\(result.finalText)'")
            }
            if usesMemory {
                spansPerRun = memory.popFinishedSpans().count
            }
            if n >= warmup {
                let perIteration = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(iterations)
                if tracer == .compare && usesMemory { memorySamples.append(perIteration) } else { samples.append(perIteration) }
            }
        }
        if tracer == .compare {
            samples.sort()
            memorySamples.sort()
            let noopMedian = samples[samples.count / 2]
            let memoryMedian = memorySamples[memorySamples.count / 2]
            let ratio = memoryMedian / noopMedian
            if json {
                print(#"{"framework":"harness","tracer":"compare","noop_per_iteration_us_median":\#(noopMedian),"memory_per_iteration_us_median":\#(memoryMedian),"ratio":\#(ratio),"spans_per_run":\#(spansPerRun),"runs_each":\#(samples.count),"iterations":\#(iterations),"mode":"\#(stream ? "stream" : "run")"}"#)
            } else {
                print(String(
                    format: "harness %@: no-op tracer %.2f µs per iteration, in-memory tracer %.2f µs (%d spans per run): ratio %.3f, over %d runs each of %d iterations",
                    stream ? "stream" : "run", noopMedian, memoryMedian, spansPerRun, ratio, samples.count, iterations
                ))
            }
            return
        }
        samples.sort()
        let median = samples[samples.count / 2]
        let p90 = samples[min(samples.count - 1, samples.count * 9 / 10)]
        if json {
            print(#"{"framework":"harness","per_iteration_us_median":\#(median),"per_iteration_us_p90":\#(p90),"runs":\#(runs),"iterations":\#(iterations),"mode":"\#(stream ? "stream" : "run")","tracer":"\#(tracer.rawValue)"}"#)
        } else {
            print(String(format: "harness %@: %.2f µs per iteration (median), %.2f µs p90, over %d runs of %d iterations (tracer: %@)", stream ? "stream" : "run", median, p90, runs, iterations, tracer.rawValue))
        }
    }
}
