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
import HarnessServer
import HarnessTesting

/// The demo's two tools (the gateway's built-in tools, with simulated latency).
enum DemoTools {
    static let weather = BuiltinTools.weather
    static let convert = BuiltinTools.convert
}

/// The scripted model's side of the demo conversation.
enum DemoScript {
    static let questions = [
        "What's the weather in Paris and Tokyo right now?",
        "Convert both temperatures to Fahrenheit, please.",
    ]

    static func model(eventDelay: Duration) -> ScriptedModel {
        func step(_ response: ModelResponse) -> ScriptedModel.Step {
            ScriptedModel.Step(response: response, chunkSize: 6, delayPerEvent: eventDelay)
        }
        return ScriptedModel([
            step(ModelResponse(
                message: .assistant("Let me check both cities at once.", toolCalls: [
                    ToolCall(id: "call_w1", name: "get_weather", arguments: ["city": "Paris"]),
                    ToolCall(id: "call_w2", name: "get_weather", arguments: ["city": "Tokyo"]),
                ]),
                finishReason: .toolCalls, usage: Usage(inputTokens: 182, outputTokens: 41)
            )),
            step(ModelResponse(
                message: .assistant("Paris is 18 °C and cloudy; Tokyo is 24 °C and clear."),
                finishReason: .stop, usage: Usage(inputTokens: 265, outputTokens: 19, cacheReadTokens: 182)
            )),
            step(ModelResponse(
                message: .assistant("", toolCalls: [
                    ToolCall(id: "call_c1", name: "convert_temperature", arguments: ["celsius": 18]),
                    ToolCall(id: "call_c2", name: "convert_temperature", arguments: ["celsius": 24]),
                ]),
                finishReason: .toolCalls, usage: Usage(inputTokens: 301, outputTokens: 38, cacheReadTokens: 265)
            )),
            step(ModelResponse(
                message: .assistant("That's 64.4 °F in Paris and 75.2 °F in Tokyo."),
                finishReason: .stop, usage: Usage(inputTokens: 380, outputTokens: 17, cacheReadTokens: 301)
            )),
        ])
    }
}
