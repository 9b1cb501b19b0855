//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Foundation

/// The result of a run that asked for a typed value.
public struct StructuredRunResult<Value: Sendable>: Sendable {
    /// The decoded value.
    public var value: Value
    /// The JSON the model gave, as validated.
    public var json: JSONValue
    /// How many correction turns were needed (0 when the first answer was right).
    public var corrections: Int
    /// Every run made (the first, then one per correction), in order.
    public var runs: [RunResult]
    /// Tokens used by all of them.
    public var usage: Usage { runs.reduce(.zero) { $0 + $1.usage } }
}

/// A run that did not produce a valid value within its corrections.
public struct StructuredOutputError: Error, Sendable, CustomStringConvertible {
    /// What was wrong with the last answer.
    public var problems: [String]
    /// The last answer's text.
    public var lastAnswer: String
    /// Every run made.
    public var runs: [RunResult]

    public var description: String {
        "no valid structured output after \(max(0, runs.count - 1)) corrections: " + problems.joined(separator: "; ")
    }
}

extension Orchestrator {
    /// Runs `agent` and returns its answer as a `T`, checked against `T.jsonSchema`.
    ///
    /// Models with native structured output get the schema as the response format; others get
    /// it in their instructions. The answer is extracted (from prose or fences, repaired if
    /// almost-JSON), validated, and decoded. A wrong answer goes back to the model with the
    /// validation errors as a correction turn, up to `maxCorrections` times.
    ///
    /// ```swift
    /// let weather = try await orchestrator.run(agent, input: "Weather in Paris?", returning: Weather.self)
    /// print(weather.value.temperature, weather.corrections)
    /// ```
    /// - Throws: ``StructuredOutputError`` when no valid answer came, ``RunError`` when a run failed.
    public func run<T: StructuredOutput>(
        _ agent: Agent,
        input: String,
        returning type: T.Type,
        options: RunOptions = RunOptions(),
        maxCorrections: Int = 2
    ) async throws -> StructuredRunResult<T> {
        try await run(agent, input: input, returning: type, schema: T.jsonSchema, options: options, maxCorrections: maxCorrections)
    }

    /// Runs `agent` and returns its answer as a `T` matching `schema`.
    public func run<T: Decodable & Sendable>(
        _ agent: Agent,
        input: String,
        returning type: T.Type,
        schema: JSONValue,
        options: RunOptions = RunOptions(),
        maxCorrections: Int = 2
    ) async throws -> StructuredRunResult<T> {
        let validator = try JSONSchema.cached(schema)
        var agent = agent
        let name = Self.schemaName(for: T.self)
        if agent.model.capabilities.structuredOutput {
            agent.responseFormat = .jsonSchema(name: name, schema: schema, strict: true)
        } else {
            let instruction = """
                Answer with one JSON value only, no prose, matching this JSON Schema:
                \(schema.canonicalString)
                """
            agent.instructions = [agent.instructions, instruction].compactMap { $0 }.joined(separator: "\n\n")
        }
        var runs: [RunResult] = []
        var transcript: [Message] = [.user(input)]
        var problems: [String] = []
        var lastAnswer = ""
        for attempt in 0...max(0, maxCorrections) {
            // With a stored conversation the store carries the history; otherwise we do.
            let newMessages = options.conversationID == nil ? transcript : [transcript[transcript.count - 1]]
            let result = try await run(agent, messages: newMessages, options: options)
            runs.append(result)
            transcript = options.conversationID == nil ? result.messages : transcript
            lastAnswer = result.finalText
            guard result.isComplete else {
                throw StructuredOutputError(problems: ["the run stopped: \(result.stopReason.rawValue)"], lastAnswer: lastAnswer, runs: runs)
            }
            let correction: String
            if let json = OutputParser.extractJSON(from: result.finalText) ?? (try? JSONValue(parsing: result.finalText)) {
                let validation = validator.validate(json)
                if validation.isValid {
                    do {
                        let value = try JSONDecoder().decode(T.self, from: Data(json.canonicalBytes))
                        return StructuredRunResult(value: value, json: json, corrections: attempt, runs: runs)
                    } catch {
                        problems = ["the JSON matches the schema but could not be decoded: \(error)"]
                        correction = "Your answer could not be read: \(error). Reply with the corrected JSON only."
                    }
                } else {
                    problems = validation.errors.map(\.description)
                    correction = """
                        Your JSON does not match the schema:
                        \(validation.report)
                        Reply with the corrected JSON only.
                        """
                }
            } else {
                problems = ["the answer is not JSON"]
                correction = "Your answer is not valid JSON. Reply with one JSON value only, matching the schema, and nothing else."
            }
            transcript.append(.user(correction))
        }
        throw StructuredOutputError(problems: problems, lastAnswer: lastAnswer, runs: runs)
    }

    static func schemaName<T>(for type: T.Type) -> String {
        let raw = String(describing: type)
        let cleaned = raw.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }
        return String(cleaned.prefix(64))
    }
}
