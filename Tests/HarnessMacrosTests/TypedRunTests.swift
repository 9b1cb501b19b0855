//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import HarnessMacros
import HarnessTesting
import Synchronization
import Testing

/// What the user asks the weather tool.
@Schema
struct ForecastQuery: Codable, Equatable {
    /// The city.
    var city: String
    /// How many days ahead.
    var days: Int
}

@Schema
struct Forecast: Codable, Equatable {
    var city: String
    var highs: [Double]
    var sky: Sky
}

@Schema
enum Sky: String, Codable {
    case clear, cloudy, rain
}

@Suite struct TypedRunTests {
    @Test func typedToolAndTypedAnswerThroughTheOrchestrator() async throws {
        let received = Mutex<[ForecastQuery]>([])
        let tool = TypedTool(name: "forecast", description: "Daily highs.", isReadOnly: true) { (query: ForecastQuery, _) in
            received.withLock { $0.append(query) }
            return Forecast(city: query.city, highs: Array(repeating: 18.5, count: query.days), sky: .cloudy)
        }
        #expect(tool.inputSchema["required"] == ["city", "days"])
        let model = ScriptedModel([
            // A call with a wrong type is refused by the schema check; the model corrects it.
            .toolCalls([ToolCall(id: "a", name: "forecast", arguments: ["city": "Lyon", "days": "two"])]),
            .toolCalls([ToolCall(id: "b", name: "forecast", arguments: ["city": "Lyon", "days": 2])]),
            .text(#"{"city": "Lyon", "highs": [18.5, 18.5], "sky": "cloudy"}"#),
        ])
        let agent = Agent(name: "typed", model: model, modelID: "m", tools: [tool])
        let result = try await Orchestrator().run(agent, input: "Lyon, 2 days?", returning: Forecast.self)
        #expect(result.value == Forecast(city: "Lyon", highs: [18.5, 18.5], sky: .cloudy))
        #expect(result.corrections == 0)
        #expect(received.withLock { $0 } == [ForecastQuery(city: "Lyon", days: 2)])
        let records = result.runs[0].toolCalls
        #expect(records.map(\.outcome) == [.invalidArguments, .success])
        #expect(records[1].result.content == #"{"city":"Lyon","highs":[18.5,18.5],"sky":"cloudy"}"#)
        // The schema the model was given came from the macro.
        #expect(model.requests[0].tools.first?.inputSchema == ForecastQuery.jsonSchema)
        #expect(ForecastQuery.jsonSchema["properties"]?["days"]?["description"] == "How many days ahead.")
    }
}
