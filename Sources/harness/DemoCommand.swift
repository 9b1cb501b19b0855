//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Harness
import HarnessConfig
import HarnessCore
import HarnessProviders
import HarnessTesting
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a multi-turn conversation with tools, on the scripted model or a real provider.",
        discussion: """
            Two user turns; the model may call tools (in parallel). Text deltas, tool calls and \
            tool results are printed as they happen, then usage, cost and timing. The scripted \
            model needs no key. Real providers read the variables their own SDKs read:
              openai, openai-responses: OPENAI_API_KEY, OPENAI_BASE_URL (any OpenAI-compatible server)
              anthropic: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
              gemini: GEMINI_API_KEY
              bedrock: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials), AWS_REGION
              ollama: OLLAMA_HOST (default http://127.0.0.1:11434)
            """
    )

    @Option(name: .long, help: "A harness.yaml whose policy and guardrails apply.")
    var config: String?

    @Option(name: .long, help: "scripted, or a provider: openai, openai-responses, anthropic, gemini, bedrock, ollama.")
    var provider: String = "scripted"

    @Option(name: .long, help: "The model to ask (default: a small model of the provider).")
    var model: String?

    @Flag(name: .long, help: "Run without streaming (print the result at the end).")
    var noStream = false

    @Option(name: .long, help: "Milliseconds between streamed events of the scripted model.")
    var eventDelayMs: Int = 12

    func run() async throws {
        let model: any LanguageModel
        let modelID: String
        if provider == "scripted" {
            model = DemoScript.model(eventDelay: .milliseconds(eventDelayMs))
            modelID = self.model ?? "scripted-demo"
        } else {
            guard let entry = ProviderCatalog.entry(provider) else {
                throw ValidationError("unknown provider '\(provider)'; choose scripted or one of \(ProviderCatalog.names.joined(separator: ", "))")
            }
            do {
                model = try ProviderCatalog.model(provider, environment: ProcessInfo.processInfo.environment)
            } catch let error as ProviderConfigurationError {
                throw ValidationError("\(error.message)\n(\(provider) reads: \(entry.environment))")
            }
            modelID = self.model ?? entry.defaultModel
        }
        let settings: HarnessConfiguration
        do {
            settings = try ConfigLoader.load(path: config)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        let factory = HarnessFactory(configuration: settings)
        let conversationID = "demo-" + String(Int(Date().timeIntervalSince1970))
        try await Stores.withConversationStore(settings.storage) { store in
            let orchestrator = factory.makeOrchestrator(conversationStore: store)
            let agent = try factory.makeAgent(
                name: "demo", instructions: "You are a concise travel assistant. Use tools for facts.",
                model: model, modelID: modelID, tools: [DemoTools.weather, DemoTools.convert]
            )
            let options = RunOptions(conversationID: conversationID, tenant: "demo")
            var total = Usage.zero
            for question in DemoScript.questions {
                print("\n\u{1B}[1muser:\u{1B}[0m \(question)")
                let result: RunResult
                if noStream {
                    result = try await orchestrator.run(agent, input: question, options: options)
                    for record in result.toolCalls { printToolResult(record) }
                    print("\u{1B}[1massistant:\u{1B}[0m \(result.finalText)")
                } else {
                    result = try await streamTurn(orchestrator, agent, question, options)
                }
                total += result.usage
                printSummary(result)
            }
            let stored = try await store.load(conversationID: conversationID, tenant: "demo", last: nil)
            var cost = ""
            if provider != "scripted" {
                if let dollars = settings.pricingTable.cost(of: total, model: modelID) {
                    cost = String(format: "; cost $%.6f", dollars)
                } else {
                    cost = "; cost unknown (no price for \(modelID); add one under pricing: in harness.yaml)"
                }
            }
            print("\nconversation \(conversationID): \(stored.count) turns stored in \(settings.storage); total tokens \(total.inputTokens) in (\(total.cacheReadTokens) cache read, \(total.cacheWriteTokens) cache write) / \(total.outputTokens) out (\(total.reasoningTokens) reasoning)\(cost)")
            print("see it again with: harness conversations show \(conversationID) --tenant demo")
        }
    }

    func streamTurn(_ orchestrator: Orchestrator, _ agent: Agent, _ question: String, _ options: RunOptions) async throws -> RunResult {
        var atLineStart = true
        var final: RunResult?
        for try await event in orchestrator.stream(agent, input: question, options: options) {
            switch event {
            case .iterationStarted:
                if !atLineStart { print() }
                print("\u{1B}[1massistant:\u{1B}[0m ", terminator: "")
                atLineStart = false
            case .textDelta(let text):
                print(text, terminator: "")
                fflush(nil)  // all streams: shows each delta as it arrives
                atLineStart = false
            case .toolCallReady(let call):
                if !atLineStart { print() }
                print("  \u{1B}[36m→ \(call.name)\(call.arguments?.canonicalString ?? call.rawArguments)\u{1B}[0m")
                atLineStart = true
            case .toolExecutionStarted(let call, let early):
                if early { print("    \u{1B}[2m(\(call.name) started early, while the model is still streaming)\u{1B}[0m") }
            case .toolResult(let record):
                printToolResult(record)
                atLineStart = true
            case .notice(let text):
                print("\n  \u{1B}[33m! \(text)\u{1B}[0m")
            case .finished(let result):
                final = result
            default:
                break
            }
        }
        if !atLineStart { print() }
        guard let final else { throw ValidationError("the run ended without a result") }
        return final
    }

    func printToolResult(_ record: ToolCallRecord) {
        let ms = Double(record.duration.components.attoseconds) / 1e15 + Double(record.duration.components.seconds) * 1000
        print("  \u{1B}[32m← \(record.call.name) [\(record.call.id)] \(record.outcome.rawValue) in \(String(format: "%.0f", ms)) ms: \(record.result.content)\u{1B}[0m")
    }

    func printSummary(_ result: RunResult) {
        func ms(_ d: Duration) -> String {
            String(format: "%.2f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        func us(_ d: Duration) -> String {
            String(format: "%.1f µs", Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
        }
        print("  \u{1B}[2m— stop: \(result.stopReason.rawValue), iterations: \(result.iterations), tool calls: \(result.toolCalls.count), tokens: \(result.usage.inputTokens) in / \(result.usage.outputTokens) out, wall: \(ms(result.duration))")
        for t in result.timings {
            print("    iteration \(t.iteration): model \(ms(t.model)), tools \(ms(t.tools)), harness overhead \(us(t.overhead))")
        }
        let toolSum = result.toolCalls.reduce(Duration.zero) { $0 + $1.duration }
        let toolWall = result.timings.reduce(Duration.zero) { $0 + $1.tools }
        if result.toolCalls.count > 1 {
            print("    tools ran in parallel: \(ms(toolSum)) of tool time in \(ms(toolWall)) of waiting\u{1B}[0m")
        } else {
            print("\u{1B}[0m", terminator: "")
        }
    }
}
