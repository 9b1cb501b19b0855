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
import HarnessTesting
import Synchronization
import Testing

struct CityWeather: StructuredOutput, Equatable {
    var city: String
    var temperature: Double
    var conditions: String

    static var jsonSchema: JSONValue {
        [
            "type": "object",
            "properties": [
                "city": ["type": "string", "minLength": 1],
                "temperature": ["type": "number"],
                "conditions": ["enum": ["sunny", "cloudy", "rain"]],
            ],
            "required": ["city", "temperature", "conditions"],
            "additionalProperties": false,
        ]
    }
}

@Suite struct StructuredOutputTests {
    let orchestrator = Orchestrator()

    @Test func invalidThenWrongTypeThenValidEndsWithTheValueAfterTwoCorrections() async throws {
        let model = ScriptedModel([
            .text("Sure! The weather is nice today."),  // not JSON
            .text(#"{"city": "Paris", "temperature": "warm", "conditions": "sunny"}"#),  // wrong type
            .text("Here it is:\n```json\n{\"city\": \"Paris\", \"temperature\": 18.5, \"conditions\": \"cloudy\"}\n```"),
        ])
        let agent = Agent(name: "w", instructions: "You report weather.", model: model, modelID: "m")
        let result = try await orchestrator.run(agent, input: "Weather in Paris?", returning: CityWeather.self)
        #expect(result.value == CityWeather(city: "Paris", temperature: 18.5, conditions: "cloudy"))
        #expect(result.corrections == 2)
        #expect(result.runs.count == 3)
        // The schema went into the instructions (the scripted model has no native mode)…
        #expect(model.requests[0].system?.contains(#""additionalProperties":false"#) == true)
        // …and each correction told the model what was wrong, with the path.
        let second = model.requests[1].messages.last?.text ?? ""
        #expect(second.contains("not valid JSON"))
        let third = model.requests[2].messages.last?.text ?? ""
        #expect(third.contains("/temperature") && third.contains("number"))
        // The whole exchange was sent each time (no store): 1, then 3, then 5 messages.
        #expect(model.requests.map(\.messages.count) == [1, 3, 5])
    }

    @Test func givesUpAfterMaxCorrectionsWithTheProblems() async throws {
        let model = ScriptedModel([.text(#"{"city": ""}"#)], whenExhausted: .repeatLast)
        let agent = Agent(name: "w", model: model, modelID: "m")
        do {
            _ = try await orchestrator.run(agent, input: "?", returning: CityWeather.self, maxCorrections: 1)
            Issue.record("expected StructuredOutputError")
        } catch let error as StructuredOutputError {
            #expect(error.runs.count == 2)
            #expect(error.problems.contains { $0.contains("minLength") || $0.contains("at least 1") })
            #expect(error.problems.contains { $0.contains("temperature") })
        }
    }

    @Test func nativeStructuredOutputGetsTheSchemaAsResponseFormat() async throws {
        struct NativeModel: LanguageModel {
            let inner: ScriptedModel
            var capabilities: ModelCapabilities { ModelCapabilities(structuredOutput: true) }
            func stream(_ request: ModelRequest) -> ModelEventStream { inner.stream(request) }
            func complete(_ request: ModelRequest) async throws -> ModelResponse { try await inner.complete(request) }
        }
        let inner = ScriptedModel([.text(#"{"city": "Oslo", "temperature": 6, "conditions": "rain"}"#)])
        let agent = Agent(name: "w", instructions: "Be brief.", model: NativeModel(inner: inner), modelID: "m")
        let result = try await orchestrator.run(agent, input: "?", returning: CityWeather.self)
        #expect(result.value.temperature == 6)
        #expect(result.corrections == 0)
        let request = try #require(inner.requests.first)
        #expect(request.system == "Be brief.")
        guard case .jsonSchema(let name, let schema, let strict) = request.responseFormat else {
            Issue.record("expected a json_schema response format")
            return
        }
        #expect(name == "CityWeather" && strict && schema == CityWeather.jsonSchema)
    }
}

@Suite struct ToolArgumentValidationTests {
    @Test func invalidArgumentsNeverReachTheTool() async throws {
        let calls = Mutex<[JSONValue]>([])
        let tool = FunctionTool(
            name: "book",
            description: "Books a table.",
            inputSchema: [
                "type": "object",
                "properties": [
                    "people": ["type": "integer", "minimum": 1, "maximum": 12],
                    "date": ["type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"],
                ],
                "required": ["people", "date"],
                "additionalProperties": false,
            ]
        ) { args, _ in
            calls.withLock { $0.append(args) }
            return ToolOutput("booked")
        }
        let model = ScriptedModel([
            .toolCalls([
                ToolCall(id: "a", name: "book", arguments: ["people": 0, "date": "tomorrow"]),
                ToolCall(id: "b", name: "book", arguments: ["people": 2]),
                ToolCall(id: "c", name: "book", arguments: ["people": 2, "date": "2026-12-01", "vip": true]),
            ]),
            .toolCalls([ToolCall(id: "d", name: "book", arguments: ["people": 2, "date": "2026-12-01"])]),
            .text("Booked."),
        ])
        let agent = Agent(name: "a", model: model, modelID: "m", tools: [tool])
        let result = try await Orchestrator().run(agent, input: "Book for two on Dec 1")
        #expect(result.toolCalls.map(\.outcome) == [.invalidArguments, .invalidArguments, .invalidArguments, .success])
        // Only the corrected call ran.
        #expect(calls.withLock { $0 } == [["people": 2, "date": "2026-12-01"]])
        // The model saw each problem with its path.
        let first = result.toolCalls[0].result.content
        #expect(first.contains("/people") && first.contains("at least 1"))
        #expect(first.contains("/date") && first.contains("pattern"))
        #expect(result.toolCalls[1].result.content.contains("'date'"))
        #expect(result.toolCalls[2].result.content.contains("'vip' is not allowed"))
    }
}

@Suite struct SchemaLoweringTests {
    let schema: JSONValue = [
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": [
            "city": ["type": "string", "minLength": 2],
            "unit": ["$ref": "#/$defs/unit"],
            "note": ["type": "string"],
            "kind": ["const": "weather"],
        ],
        "required": ["city", "unit", "kind"],
        "$defs": ["unit": ["enum": ["c", "f"]]],
    ]

    @Test func openAIStrictClosesObjectsAndMakesOptionalsNullable() throws {
        let lowered = SchemaLowering.lower(schema, for: .openAIStrict)
        let s = lowered.schema
        #expect(s["additionalProperties"] == false)
        #expect(Set(s["required"]?.arrayValue ?? []) == ["city", "unit", "note", "kind"])
        #expect(s["properties"]?["note"]?["type"] == ["string", "null"])
        #expect(s["properties"]?["unit"] == ["enum": ["c", "f"]])
        #expect(s["$defs"] == nil && s["$schema"] == nil)
        #expect(s["properties"]?["city"]?["minLength"] == nil)
        #expect(s["properties"]?["city"]?["description"]?.stringValue?.contains("minLength 2") == true)
        #expect(!lowered.isExact)
        #expect(lowered.changes.contains { $0.contains("inlined $ref '#/$defs/unit'") })
        #expect(lowered.changes.contains { $0.contains("'note'") })
        // Still a valid schema, which accepts what the original accepts.
        let original = try JSONSchema(schema)
        let lowerCompiled = try JSONSchema(s)
        let answer: JSONValue = ["city": "Paris", "unit": "c", "note": nil, "kind": "weather"]
        #expect(lowerCompiled.isValid(answer))
        #expect(!original.isValid(answer))  // null note: the original wants a string or nothing
    }

    @Test func geminiHasNoRefsConstOrAdditionalProperties() {
        let lowered = SchemaLowering.lower(
            ["type": "object", "properties": ["a": ["type": ["string", "null"]], "b": ["const": 1]],
             "additionalProperties": false, "$defs": [:]], for: .gemini)
        let s = lowered.schema
        #expect(s["additionalProperties"] == nil)
        #expect(s["properties"]?["a"] == ["type": "string", "nullable": true])
        #expect(s["properties"]?["b"] == ["enum": [1]])
        #expect(!s.canonicalString.contains("$ref") && !s.canonicalString.contains("$defs"))
    }

    @Test func recursiveReferencesAreCutAndReported() {
        let tree: JSONValue = [
            "$defs": ["node": ["type": "object", "properties": ["children": ["type": "array", "items": ["$ref": "#/$defs/node"]]]]],
            "$ref": "#/$defs/node",
        ]
        let lowered = SchemaLowering.lower(tree, for: .gemini)
        #expect(lowered.changes.contains { $0.contains("recursive") })
        #expect(!lowered.schema.canonicalString.contains("$ref"))
    }

    @Test func anthropicKeepsTheSchema() {
        let lowered = SchemaLowering.lower(schema, for: .anthropic)
        #expect(lowered.schema["$defs"] != nil)
        #expect(lowered.schema["properties"]?["unit"] == ["$ref": "#/$defs/unit"])
        #expect(lowered.isExact)
    }
}
