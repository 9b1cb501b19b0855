//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessCore
import Testing

@Suite struct PromptBuilderTests {
    let spec = ToolSpec(name: "get_weather", description: "Weather for a city", inputSchema: ["type": "object"])
    let history: [Message] = [
        .user("What is the weather in Paris?"),
        .assistant("", toolCalls: [ToolCall(id: "c1", name: "get_weather", arguments: ["city": "Paris"])]),
        .tool(ToolResult(toolCallID: "c1", name: "get_weather", content: "21C")),
        .user("And tomorrow?"),
    ]

    @Test func buildPassesHistoryAndSettingsThroughWithoutSnippets() {
        let options = GenerationOptions(temperature: 0.5, maxOutputTokens: 200, stopSequences: ["END"])
        let builder = PromptBuilder(
            model: "model-a", system: "Be brief.", tools: [spec], toolChoice: .required,
            responseFormat: .jsonObject, options: options
        )
        let request = builder.build(history: history, metadata: ["tenant": "t1"])
        #expect(request.model == "model-a")
        #expect(request.system == "Be brief.")
        #expect(request.messages == history)
        #expect(request.tools == [spec])
        #expect(request.toolChoice == .required)
        #expect(request.responseFormat == .jsonObject)
        #expect(request.options == options)
        #expect(request.metadata == ["tenant": "t1"])

        #expect(PromptBuilder(model: "m").build(history: history).system == nil)
    }

    @Test func snippetsGoIntoTheSystemPromptWithTheirSources() throws {
        let builder = PromptBuilder(model: "m", system: "Be brief.")
        let snippets = [
            Snippet(text: "Paris is in France.", score: 0.9, source: "atlas"),
            Snippet(text: "Oslo is cold.", score: 0.5),
        ]
        let request = builder.build(history: history, snippets: snippets)
        let system = try #require(request.system)
        #expect(system.hasPrefix("Be brief.\n\n"))
        #expect(system.contains("[1] (atlas) Paris is in France."))
        #expect(system.contains("[2] Oslo is cold."))
        let first = try #require(system.firstRange(of: "Paris is in France."))
        let second = try #require(system.firstRange(of: "Oslo is cold."))
        #expect(first.lowerBound < second.lowerBound)
        // The history is untouched: context goes to the system prompt only.
        #expect(request.messages == history)

        // Without a system prompt, the context stands alone.
        let bare = PromptBuilder(model: "m").build(history: history, snippets: snippets)
        let bareSystem = try #require(bare.system)
        #expect(bareSystem.hasPrefix("Context:\n"))
        #expect(bareSystem.contains("[1] (atlas) Paris is in France."))
    }

    @Test func toolChoiceBecomesAutoWithoutTools() {
        for choice in [ToolChoice.required, .none, .tool("get_weather"), .auto] {
            #expect(PromptBuilder(model: "m", toolChoice: choice).build(history: history).toolChoice == .auto)
            #expect(PromptBuilder(model: "m", tools: [spec], toolChoice: choice).build(history: history).toolChoice == choice)
        }
    }
}
