//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Prometheus
import CoreMetrics
import HarnessConfig
public import Harness
import HarnessCore

/// Tools an agent declared in `harness.yaml` can use by name: a weather lookup over a small
/// fixed table and a temperature conversion, each with a little simulated latency. They make
/// server-side agent runs work with no external service; real deployments add their own tools
/// in code.
public enum BuiltinTools {
    static let table: [String: (Double, String)] = [
        "paris": (18, "cloudy"), "tokyo": (24, "clear"), "lisbon": (21, "sunny"), "oslo": (6, "rain"),
    ]

    public static let weather = FunctionTool(
        name: "get_weather",
        description: "Current weather for a city.",
        inputSchema: [
            "type": "object",
            "properties": ["city": ["type": "string", "description": "City name"]],
            "required": ["city"],
        ],
        isReadOnly: true
    ) { args, _ in
        try await Task.sleep(for: .milliseconds(120))
        guard let city = args["city"]?.stringValue else { return ToolOutput("missing 'city'", isError: true) }
        guard let (temp, conditions) = table[city.lowercased()] else {
            return ToolOutput("no weather data for \(city)", isError: true)
        }
        return ToolOutput(json: ["city": .string(city), "temp_c": .number(temp), "conditions": .string(conditions)])
    }

    public static let convert = FunctionTool(
        name: "convert_temperature",
        description: "Converts Celsius to Fahrenheit.",
        inputSchema: [
            "type": "object",
            "properties": ["celsius": ["type": "number"]],
            "required": ["celsius"],
        ],
        isReadOnly: true
    ) { args, _ in
        try await Task.sleep(for: .milliseconds(60))
        guard let c = args["celsius"]?.doubleValue else { return ToolOutput("missing 'celsius'", isError: true) }
        return ToolOutput(json: ["celsius": .number(c), "fahrenheit": .number(((c * 9 / 5 + 32) * 10).rounded() / 10)])
    }

    /// Every built-in tool by name.
    public static let all: [String: FunctionTool] = [weather.name: weather, convert.name: convert]
}
