//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Benchmark
import Harness
import HarnessCore
import HarnessTesting

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        // 1000 operations per sample, reported per operation: the harness's own cost per
        // sample (about 200 ns and 16 mallocs here) would otherwise swamp nanosecond work.
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    // PromptBuilder with 2 messages (the Go harness: 41 ns/op).
    let builder = PromptBuilder(
        model: "gpt-4o-mini", system: "You are helpful.",
        tools: [ToolSpec(name: "lookup", description: "Looks a key up.")]
    )
    let twoMessages: [Message] = [.user("What's the weather in Paris?"), .assistant("Let me check.")]
    Benchmark("PromptBuilder.build_2_messages") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(builder.build(history: twoMessages))
        }
    }

    // LRU set + get of a new key at capacity 1000 (the Go harness: 325 ns/op).
    let lru = LRUCache<String, Int>(capacity: 1000)
    for i in 0..<1000 { lru.set("warm-\(i)", i) }
    let keys = (0..<100_000).map { "key-\($0)" }
    Benchmark("LRUCache.set_get_new_key_cap1000") { benchmark in
        var i = 0
        for _ in benchmark.scaledIterations {
            let key = keys[i % keys.count]
            i &+= 1
            lru.set(key, i)
            blackHole(lru.get(key))
        }
    }

    // ContextAssembler packing 100 snippets into 1000 tokens, at most 10 (really packed:
    // scored, selected, budgeted; the Go harness's 1.8 ns measured an early return).
    let assembler = ContextAssembler(tokenBudget: 1000, maxSnippets: 10)
    var seed: UInt64 = 42
    let snippets: [Snippet] = (0..<100).map { i in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        let words = 20 + Int(seed >> 58)
        return Snippet(text: String(repeating: "lorem ipsum ", count: words), score: Double(seed >> 11) / Double(1 << 53), source: "doc-\(i)")
    }
    let history: [Message] = [.user("Summarise the documents about pricing."), .assistant("Sure."), .user("Focus on 2025.")]
    Benchmark("ContextAssembler.pack_100_snippets") { benchmark in
        for _ in benchmark.scaledIterations {
            let packed = assembler.assemble(system: "You answer from the context.", history: history, snippets: snippets)
            precondition(packed.snippets.count > 0 && packed.snippets.count <= 10)  // safe: fixed benchmark input
            blackHole(packed)
        }
    }

    // OutputParser on each text format.
    let parser = OutputParser(knownTools: ["get_weather", "convert"])
    let formats: [(String, String)] = [
        ("tool_call_tags", #"<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "units": "metric"}}</tool_call>"#),
        ("fenced_json", "I'll call it.\n```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n```\n"),
        ("json_array", #"[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "convert", "arguments": {"celsius": 18}}]"#),
        ("function_style", #"Calling get_weather({"city": "Paris", "units": "metric"}) now."#),
        ("repaired_json", "{name: 'get_weather', arguments: {city: 'Paris', units: 'metric',},}"),
        ("prose_no_call", "The weather in Paris is usually mild in spring, with temperatures around 15 degrees."),
    ]
    for (name, text) in formats {
        Benchmark("OutputParser.\(name)") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(parser.toolCalls(in: text)) }
        }
    }
    let partialArgs = #"{"city": "Paris", "days": [1, 2, 3], "notes": "bring an umbr"#
    Benchmark("LenientJSONReader.partial_preview") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(LenientJSONReader.partial(partialArgs)) }
    }

    // Orchestrator overhead: 10 iterations, one tool call each but the last; model and tool
    // do no work, so the time is Harness's own. Divide by 10 for per-iteration overhead.
    let steps: [ScriptedModel.Step] = (1..<10).map { i in
        .toolCalls([ToolCall(id: "call_\(i)", name: "lookup", arguments: ["key": .string("k\(i)")])], usage: Usage(inputTokens: 1, outputTokens: 1))
    } + [.text("done", usage: Usage(inputTokens: 1, outputTokens: 1))]
    let model = ScriptedModel(steps, recordsRequests: false)
    let lookup = FunctionTool(name: "lookup", description: "Looks a key up.") { args, _ in
        ToolOutput("value-" + (args["key"]?.stringValue ?? ""))
    }
    let agent = Agent(name: "bench", model: model, modelID: "scripted", tools: [lookup])
    let orchestrator = Orchestrator()
    // Two runs of the same work: mallocs counted (the interposer's bookkeeping slows every
    // malloc) and wall clock alone (the figure to compare).
    Benchmark(
        "Orchestrator.run_10_iterations.mallocs",
        configuration: .init(metrics: [.mallocCountTotal], scalingFactor: .one, maxDuration: .seconds(2))
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            model.reset()
            blackHole(try await orchestrator.run(agent, input: "go"))
        }
    }
    Benchmark(
        "Orchestrator.run_10_iterations",
        configuration: .init(metrics: [.wallClock], timeUnits: .nanoseconds, scalingFactor: .one, maxDuration: .seconds(5))
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            model.reset()
            blackHole(try await orchestrator.run(agent, input: "go"))
        }
    }
}
