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
import HarnessCore
import HarnessProviders
import Testing

/// Our OpenAI request bodies, and the Responses fixtures we wrote, validated against the
/// official OpenAPI spec (../shared/conformance/openai-anthropic-wire/openai-openapi, OpenAPI
/// 3.1 = JSON Schema 2020-12) with our own JSON Schema validator. The YAML is converted to
/// JSON once by python3's PyYAML (the test command's Python), cached under the temp folder.
@Suite struct OpenAISpecTests {
    static let conversation = ModelRequest(
        model: "gpt-4o",
        system: "sys",
        messages: [
            .user("hi"), .assistant("", toolCalls: [ToolCall(id: "call_1", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)]),
            .tool(ToolResult(toolCallID: "call_1", name: "get_weather", content: "sunny")),
            .assistant("It is sunny."),
            Message(role: .user, content: [.text("look"), .image(ImageContent(base64Data: "AAAA", mediaType: "image/png"))]),
        ],
        tools: OpenAIChatTests.request.tools,
        toolChoice: .tool("get_weather"),
        responseFormat: .jsonSchema(name: "answer", schema: ["type": "object"], strict: true),
        options: GenerationOptions(temperature: 0.5, topP: 0.9, maxOutputTokens: 100, seed: 7, stopSequences: ["END"])
    )

    static let components: JSONValue? = {
        let yaml = Conformance.root.appendingPathComponent("openai-anthropic-wire/openai-openapi/openapi.yaml")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("harness-openai-openapi.json")
        if !FileManager.default.fileExists(atPath: cache.path) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-c",
                "import json,sys,yaml; json.dump(yaml.load(open(sys.argv[1]), Loader=getattr(yaml,'CSafeLoader',yaml.SafeLoader)), open(sys.argv[2],'w'), default=str)",
                yaml.path, cache.path,
            ]
            try? process.run()
            process.waitUntilExit()
        }
        guard let data = try? Data(contentsOf: cache), let spec = try? JSONValue(parsingBytes: Array(data)) else { return nil }
        return spec["components"].map(applyingNullable)
    }()

    /// The spec still carries OpenAPI 3.0's `nullable: true` in places (111 of them), which
    /// JSON Schema ignores; this gives it its OpenAPI meaning: `null` is also allowed.
    static func applyingNullable(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items): return .array(items.map(applyingNullable))
        case .object(var object):
            for (key, child) in object { object[key] = applyingNullable(child) }
            if object["nullable"] == true {
                object["nullable"] = nil
                return ["anyOf": [.object(object), ["type": "null"]]]
            }
            return .object(object)
        default: return value
        }
    }

    static func validator(_ schema: String) throws -> JSONSchema {
        let components = try #require(components, "could not load the OpenAPI spec as JSON")
        return try JSONSchema(["$ref": .string("#/components/schemas/\(schema)"), "components": components])
    }

    @Test func chatCompletionRequestsMatchTheSpec() throws {
        let schema = try Self.validator("CreateChatCompletionRequest")
        for stream in [false, true] {
            let body = OpenAIChatWire.body(for: Self.conversation, stream: stream)
            let result = schema.validate(body)
            #expect(result.isValid, "stream \(stream): \(result.report)")
        }
        // A request the spec forbids is caught: the validator is not vacuous.
        #expect(!schema.isValid(["model": "gpt-4o", "messages": [["role": "wizard", "content": "x"]]]))
    }

    /// The whole conversation but the image message, which the spec cannot validate through
    /// `InputItem`: a message whose content is a list matches both `EasyInputMessage` and
    /// `Item` there, so its `oneOf` (meant to be settled by a discriminator) fails for any
    /// such message. It is checked against `EasyInputMessage` alone.
    @Test func responsesRequestsMatchTheSpec() throws {
        let schema = try Self.validator("CreateResponse")
        var request = Self.conversation
        let image = request.messages.removeLast()
        for stream in [false, true] {
            let result = schema.validate(OpenAIResponsesWire.body(for: request, stream: stream))
            #expect(result.isValid, "stream \(stream): \(result.report)")
        }
        let item = try #require(OpenAIResponsesWire.body(for: ModelRequest(model: "m", messages: [image]), stream: false)["input"]?[0])
        let easy = try Self.validator("EasyInputMessage").validate(item)
        #expect(easy.isValid, "\(easy.report)")
        #expect(!schema.isValid(["model": "gpt-4o", "input": [["type": "function_call_output"]]]))
    }

    @Test func recordedChatChunksMatchTheSpec() throws {
        let schema = try Self.validator("CreateChatCompletionStreamResponse")
        for name in OpenAIChatTests.fixtureNames {
            var decoder = SSEDecoder()
            let events = decoder.feed(try OpenAIChatTests.fixture(name)) + decoder.finish()
            for event in events where event.data != "[DONE]" {
                let result = schema.validate(try JSONValue(parsing: event.data))
                #expect(result.isValid, "\(name): \(result.report)")
            }
        }
    }

    @Test func responsesFixturesMatchTheSpec() throws {
        let eventSchema = try Self.validator("ResponseStreamEvent")
        for name in ["openai-responses-text.sse", "openai-responses-parallel-tools.sse"] {
            var decoder = SSEDecoder()
            let events = decoder.feed(try Fixture.bytes(name)) + decoder.finish()
            #expect(events.count > 5)
            for event in events {
                let result = eventSchema.validate(try JSONValue(parsing: event.data))
                #expect(result.isValid, "\(name) \(event.type): \(result.report)")
            }
        }
        let responseSchema = try Self.validator("Response")
        let result = responseSchema.validate(try JSONValue(parsingBytes: try Fixture.bytes("openai-responses-parallel-tools.json")))
        #expect(result.isValid, "\(result.report)")
    }
}
