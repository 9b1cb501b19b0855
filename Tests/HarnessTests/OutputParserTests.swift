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

@Suite struct OutputParserTests {
    let parser = OutputParser()

    // MARK: - Formats

    @Test func toolCallTagYieldsTheCall() {
        let text = #"I'll check. <tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}</tool_call>"#
        let calls = parser.toolCalls(in: text)
        #expect(calls.map(\.name) == ["get_weather"])
        #expect(calls.first?.arguments == ["city": "Paris", "days": 3])
    }

    @Test func twoToolCallTagsYieldTwoCallsInOrder() {
        let text = """
            <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>
            <tool_call>{"id": "call_9", "name": "get_time", "arguments": {"zone": "CET"}}</tool_call>
            """
        let calls = parser.toolCalls(in: text)
        let expected: [JSONValue?] = [["city": "Paris"], ["zone": "CET"]]
        #expect(calls.map(\.name) == ["get_weather", "get_time"])
        #expect(calls.map(\.arguments) == expected)
        #expect(calls.last?.id == "call_9")
        #expect(Set(calls.map(\.id)).count == 2)
    }

    @Test func fencedBlockWithOneCall() {
        let text = "Sure.\n```json\n{\"name\": \"search\", \"arguments\": {\"query\": \"swift testing\"}}\n```\nDone."
        let calls = parser.toolCalls(in: text)
        #expect(calls.map(\.name) == ["search"])
        #expect(calls.first?.arguments == ["query": "swift testing"])
    }

    @Test func fencedBlockWithAnArrayOfCalls() {
        let text = "```json\n[{\"name\": \"a\", \"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"parameters\": {\"y\": [2]}}]\n```"
        let calls = parser.toolCalls(in: text)
        let expected: [JSONValue?] = [["x": 1], ["y": [2]]]
        #expect(calls.map(\.name) == ["a", "b"])
        #expect(calls.map(\.arguments) == expected)
    }

    @Test func bareJSONArrayOfCalls() {
        let calls = parser.toolCalls(in: #"[{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}]"#)
        let expected: [JSONValue?] = [["x": 1], [:]]
        #expect(calls.map(\.name) == ["a", "b"])
        #expect(calls.map(\.arguments) == expected)
    }

    @Test func toolCallsObjectWithArgumentsAsJSONText() {
        let calls = parser.toolCalls(in: #"{"tool_calls":[{"function":{"name":"get_weather","arguments":"{\"a\":1}"}}]}"#)
        #expect(calls.map(\.name) == ["get_weather"])
        #expect(calls.first?.rawArguments == #"{"a":1}"#)
        #expect(calls.first?.arguments == ["a": 1])

        // Argument text that is not valid JSON is kept, but yields no executable arguments.
        let broken = parser.toolCalls(in: #"{"tool_calls":[{"function":{"name":"get_weather","arguments":"{\"a\":"}}]}"#)
        #expect(broken.count == 1)
        #expect(broken.first?.name == "get_weather")
        #expect(broken.first?.rawArguments == #"{"a":"#)
        #expect(broken.first?.arguments == nil)
    }

    @Test func toolAndArgsShape() {
        let calls = parser.toolCalls(in: #"{"tool": "search", "args": {"q": "x"}}"#)
        #expect(calls.map(\.name) == ["search"])
        #expect(calls.first?.arguments == ["q": "x"])
    }

    @Test func functionStyleCallOfAKnownTool() {
        let weather = OutputParser(knownTools: ["get_weather"])
        let calls = weather.toolCalls(in: #"Calling get_weather({"city": "Paris"}) now."#)
        #expect(calls.map(\.name) == ["get_weather"])
        #expect(calls.first?.arguments == ["city": "Paris"])

        // A known tool without arguments.
        let refresh = OutputParser(knownTools: ["refresh"]).toolCalls(in: "I'll call refresh() first.")
        #expect(refresh.map(\.name) == ["refresh"])
        #expect(refresh.first?.arguments == [:])

        // Function style with a name the caller does not know is prose.
        #expect(weather.toolCalls(in: #"Calling get_time({"zone": "CET"})"#).isEmpty)
    }

    @Test func proseIsNotACall() {
        let prose = [
            "Use print(x) to see the value.",
            "The weather in Paris is sunny (about 21 \u{B0}C) today.",
            "Call me maybe()",
            "",
            "   ",
            "{}",
            "[]",
            #"{"city": "Paris"}"#,
            "1 + 1 = 2",
        ]
        for text in prose {
            #expect(parser.toolCalls(in: text).isEmpty, "\(text.debugDescription)")
        }
        #expect(OutputParser(knownTools: ["print"]).toolCalls(in: "Use print(x) to see the value.").isEmpty)
    }

    @Test func knownToolsFilterOutOtherNames() {
        let text = #"<tool_call>{"name": "get_weather", "arguments": {}}</tool_call><tool_call>{"name": "delete_everything", "arguments": {}}</tool_call>"#
        #expect(OutputParser().toolCalls(in: text).map(\.name) == ["get_weather", "delete_everything"])
        #expect(OutputParser(knownTools: ["get_weather"]).toolCalls(in: text).map(\.name) == ["get_weather"])
        #expect(OutputParser(knownTools: ["search"]).toolCalls(in: text).isEmpty)
    }

    @Test func namesMustBeIdentifiers() {
        for text in [
            #"{"name": "rm -rf /", "arguments": {}}"#,
            #"{"name": "", "arguments": {}}"#,
            #"{"name": "9lives", "arguments": {}}"#,
            #"{"name": 42, "arguments": {}}"#,
        ] {
            #expect(parser.toolCalls(in: text).isEmpty, "\(text)")
        }
    }

    @Test func almostJSONIsRepairedAndWrittenBackStrictly() {
        let calls = parser.toolCalls(in: "<tool_call>{'name': 'get_weather', 'arguments': {city: 'Paris',},}</tool_call>")
        #expect(calls.map(\.name) == ["get_weather"])
        #expect(calls.first?.arguments == ["city": "Paris"])
        #expect(calls.first?.rawArguments == #"{"city":"Paris"}"#)
    }

    @Test func cutOffCallYieldsNothing() {
        let known = OutputParser(knownTools: ["get_weather", "delete", "search", "a"])
        for text in [
            #"<tool_call>{"name": "get_weather", "arguments": {"city": "Par"#,
            #"<tool_call>{"name": "delete", "arguments": {"path": "/tmp/x", "recursive": tr"#,
            "```json\n{\"name\": \"search\", \"arguments\": {\"query\": \"sw",
            #"[{"name": "a", "arguments": {"x": 1"#,
            #"get_weather({"city": "Paris""#,
        ] {
            #expect(known.toolCalls(in: text).isEmpty, "\(text)")
            #expect(parser.toolCalls(in: text).isEmpty, "\(text)")
        }
    }

    // MARK: - Known problems

    @Test func functionStyleArgumentsWithANameKeyAreNotMistakenForACall() {
        let calls = OutputParser(knownTools: ["greet"]).toolCalls(in: #"greet({"name": "Bob"})"#)
        #expect(calls.map(\.name) == ["greet"])
        #expect(calls.first?.arguments == ["name": "Bob"])
    }

    @Test func cutOffCallDoesNotYieldItsArgumentObjectAsACall() {
        // The outer call is cut off; its arguments happen to have a "name" member.
        let text = #"<tool_call>{"name": "create_user", "arguments": {"name": "alice", "role": "admin"}"#
        let calls = OutputParser().toolCalls(in: text)
        #expect(calls.isEmpty)
    }

    // MARK: - extractJSON

    @Test func extractJSONFindsJSONInProse() {
        #expect(OutputParser.extractJSON(from: "Here you go: {\"a\": 1} thanks") == ["a": 1])
        #expect(OutputParser.extractJSON(from: "The list is [1, 2, 3].") == [1, 2, 3])
        #expect(OutputParser.extractJSON(from: "See [the docs] and {\"a\": 1}.") == ["a": 1])
        #expect(OutputParser.extractJSON(from: "Output: {a: 1, b: 'two',} ok") == ["a": 1, "b": "two"])
        #expect(OutputParser.extractJSON(from: "  {\"a\": true}\n") == ["a": true])
    }

    @Test func extractJSONReadsFencedBlocks() {
        #expect(OutputParser.extractJSON(from: "Result:\n```json\n{\"a\": [1, 2]}\n```\nBye") == ["a": [1, 2]])
        #expect(OutputParser.extractJSON(from: "```\n[1, 2]\n```") == [1, 2])
        // A fenced block wins over JSON in the prose before it.
        let text = "Not {\"this\": 1} but\n```json\n{\"that\": 2}\n```"
        #expect(OutputParser.extractJSON(from: text) == ["that": 2])
    }

    @Test func extractJSONReturnsNilWithoutJSON() {
        for text in ["no json here", "{ unbalanced", "", "[the docs]", "a } b ] c", "```\nplain\n```"] {
            #expect(OutputParser.extractJSON(from: text) == nil, "\(text.debugDescription)")
        }
    }

    // MARK: - Properties

    /// Complete tool-call texts in every format the parser reads.
    static let validToolCallTexts: [String] = [
        #"<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}</tool_call>"#,
        "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}</tool_call>\n"
            + "<tool_call>{\"name\": \"search\", \"arguments\": {\"query\": \"caf\u{E9} \u{1F600}\", \"limit\": 10}}</tool_call>",
        "Sure.\n```json\n{\"name\": \"search\", \"arguments\": {\"query\": \"swift\", \"limit\": 10}}\n```\nDone.",
        "```json\n[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}, "
            + "{\"name\": \"search\", \"parameters\": {\"query\": \"x\"}}]\n```",
        #"[{"name": "get_weather", "arguments": {"city": "Rome", "days": 12}}, {"name": "search", "arguments": {"query": "a,b"}}]"#,
        #"{"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 3}"}}]}"#,
        #"{"tool": "search", "args": {"query": "weather", "limit": -5}}"#,
        #"Calling get_weather({"city": "Paris", "days": 3}) now."#,
        #"Let me look that up: {"name": "search", "arguments": {"query": "1 + 1 = 2"}} - one moment."#,
    ]

    /// Pieces random inputs are made of: JSON punctuation, tag and fence fragments, words
    /// the parser looks for, digits, letters, non-ASCII and white space.
    static let fragments: [String] = [
        "{", "}", "[", "]", "\"", "'", ":", ",", "\\", "<tool_call>", "</tool_call>", "```", "json",
        "name", "arguments", "\"name\"", "\"arguments\"", "(", ")", "0", "1", "7", "-", ".", "e",
        "a", "x", "Z", "_", "true", "None", "get_weather", "\\u", "d83d", "/", "*", "//", "/*",
        "\u{E9}", "\u{1F600}", " ", "\t", "\n",
    ]

    /// What is wrong with a call the parser returned, if anything: every call has a name, and
    /// arguments are only ever the strict reading of the raw argument text (no argument text
    /// means none, as ToolCall documents). Nothing executable comes from a guess.
    static func problem(with call: ToolCall) -> String? {
        if call.name.isEmpty { return "a call with an empty name" }
        guard let arguments = call.arguments else { return nil }
        let raw = call.rawArguments.isEmpty ? "{}" : call.rawArguments
        guard let strict = try? JSONValue(parsing: raw) else {
            return "call '\(call.name)' has arguments but its raw text \(call.rawArguments.debugDescription) is not strict JSON"
        }
        if strict != arguments {
            return "call '\(call.name)' has arguments \(arguments), but its raw text reads as \(strict)"
        }
        return nil
    }

    /// What is wrong with a value a lenient reader returned, if anything: its canonical text
    /// must be strict JSON that reads back as the same value.
    static func problem(with value: JSONValue?) -> String? {
        guard let value else { return nil }
        guard let back = try? JSONValue(parsing: value.canonicalString) else {
            return "\(value.canonicalString.debugDescription) is not strict JSON"
        }
        return back == value ? nil : "\(value) does not survive its canonical text"
    }

    @Test func parserNeverThrowsOrCrashesOnRandomAndTruncatedInput() {
        var rng = SplitMix64(seed: 0x5EED_0F_CA11_5EED)
        let known: Set<String> = ["get_weather", "search", "name", "a"]
        let knownParser = OutputParser(knownTools: known)
        let anyParser = OutputParser()
        var callsSeen = 0
        var problems = 0

        for i in 0..<10_000 where problems < 10 {
            let input: String
            if i % 2 == 0 {
                var s = ""
                for _ in 0..<Int.random(in: 0...48, using: &rng) {
                    s += Self.fragments[Int.random(in: 0..<Self.fragments.count, using: &rng)]
                }
                input = s
            } else {
                let source = Self.validToolCallTexts[Int.random(in: 0..<Self.validToolCallTexts.count, using: &rng)]
                input = String(source.prefix(Int.random(in: 0...source.count, using: &rng)))
            }

            let fromKnown = knownParser.toolCalls(in: input)
            let fromAny = anyParser.toolCalls(in: input)
            callsSeen += fromKnown.count + fromAny.count
            for call in fromKnown + fromAny {
                if let problem = Self.problem(with: call) {
                    Issue.record("input \(i) \(input.debugDescription): \(problem)")
                    problems += 1
                }
            }
            for call in fromKnown where !known.contains(call.name) {
                Issue.record("input \(i) \(input.debugDescription): unknown tool '\(call.name)' passed the knownTools filter")
                problems += 1
            }

            let extracted = OutputParser.extractJSON(from: input)
            if let extracted, extracted.objectValue == nil, extracted.arrayValue == nil {
                Issue.record("input \(i) \(input.debugDescription): extractJSON returned a scalar \(extracted)")
                problems += 1
            }
            let readers: [(String, JSONValue?)] = [
                ("extractJSON", extracted),
                ("repair", LenientJSONReader.repair(input)),
                ("partial", LenientJSONReader.partial(input)),
            ]
            for (reader, value) in readers {
                if let problem = Self.problem(with: value) {
                    Issue.record("input \(i) \(input.debugDescription): \(reader): \(problem)")
                    problems += 1
                }
            }
        }
        #expect(problems == 0)
        // The generator reaches the code that makes calls, not only the early exits.
        #expect(callsSeen > 200)
    }

    @Test func truncatedToolCallTextNeverYieldsACallTheFullTextDoesNot() {
        let parsers = [OutputParser(), OutputParser(knownTools: ["get_weather", "search"])]
        for candidate in parsers {
            for text in Self.validToolCallTexts {
                let full = candidate.toolCalls(in: text)
                #expect(!full.isEmpty, "the full text \(text.debugDescription) should yield calls")
                for k in 0...text.count {
                    let prefix = String(text.prefix(k))
                    for call in candidate.toolCalls(in: prefix) {
                        let matches = full.contains { $0.name == call.name && (call.arguments == nil || $0.arguments == call.arguments) }
                        #expect(matches, "\(prefix.debugDescription) yielded \(call.name)(\(call.rawArguments)), which the full text does not contain")
                    }
                }
            }
        }
    }

    @Test func deeplyNestedInputDoesNotCrashAnyReader() {
        let deepArrays = String(repeating: "[", count: 100_000)
        let inputs = [
            deepArrays,
            deepArrays + String(repeating: "]", count: 100_000),
            String(repeating: "{\"a\":", count: 100_000),
            "<tool_call>" + deepArrays + "</tool_call>",
            "```json\n" + deepArrays + "\n```",
            "f(" + String(repeating: "{", count: 100_000) + ")",
        ]
        let known = OutputParser(knownTools: ["f"])
        for input in inputs {
            let label = String(input.prefix(16)).debugDescription
            #expect(known.toolCalls(in: input).isEmpty, "\(label)")
            #expect(parser.toolCalls(in: input).isEmpty, "\(label)")
            #expect(OutputParser.extractJSON(from: input) == nil, "\(label)")
            #expect(LenientJSONReader.repair(input) == nil, "\(label)")
            #expect(Self.problem(with: LenientJSONReader.partial(input)) == nil, "\(label)")
        }
    }
}

@Suite struct LenientJSONReaderTests {
    @Test func repairsTrailingCommas() {
        #expect(LenientJSONReader.repair(#"{"a": 1, "b": [1, 2,],}"#) == ["a": 1, "b": [1, 2]])
        #expect(LenientJSONReader.repair("[1,]") == [1])
    }

    @Test func repairsSingleQuotes() {
        #expect(LenientJSONReader.repair(#"{'a': 'x', "b": 'say "hi"'}"#) == ["a": "x", "b": "say \"hi\""])
    }

    @Test func repairsUnquotedKeys() {
        #expect(LenientJSONReader.repair(#"{city: "Paris", days_2: 3, $ref: null}"#) == ["city": "Paris", "days_2": 3, "$ref": nil])
    }

    @Test func skipsComments() {
        let text = "{\n  // the city\n  \"city\": \"Paris\", /* how long */ \"days\": 3\n}"
        #expect(LenientJSONReader.repair(text) == ["city": "Paris", "days": 3])
    }

    @Test func readsPythonLiterals() {
        #expect(LenientJSONReader.repair(#"{"a": True, "b": False, "c": None}"#) == ["a": true, "b": false, "c": nil])
    }

    @Test func acceptsRawNewlinesInStrings() {
        #expect(LenientJSONReader.repair("{\"a\": \"line1\nline2\"}") == ["a": "line1\nline2"])
    }

    @Test func returnsNilForGarbage() {
        for text in ["hello", "", "   ", "{\"a\": }", "[1, 2", "{\"a\": 1} trailing", "}{", ":", "{\"a\" 1}", "[1 2]", "{\"a\": tr"] {
            #expect(LenientJSONReader.repair(text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func agreesWithTheStrictParserOnValidJSON() throws {
        let documents = [
            #"{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude00 \"q\" \\"}}"#,
            "[]", "{}", "\"x\"", "0", "-0.5", "  [ 1 , 2 ]  ",
            #"[{"name": "f", "arguments": {"q": "\"quoted\""}}]"#,
        ]
        for text in documents {
            let strict = try JSONValue(parsing: text)
            #expect(LenientJSONReader.repair(text) == strict, "repair \(text)")
            #expect(LenientJSONReader.partial(text) == strict, "partial \(text)")
        }
    }

    @Test func partialClosesWhateverIsStillOpen() {
        #expect(LenientJSONReader.partial(#"{"a": "hel"#) == ["a": "hel"])
        #expect(LenientJSONReader.partial(#"{"a": [1, 2"#) == ["a": [1, 2]])
        #expect(LenientJSONReader.partial(#"{"a": 1, "b"#) == ["a": 1])
        #expect(LenientJSONReader.partial(#"{"ok": tr"#) == ["ok": true])
        #expect(LenientJSONReader.partial(#"{"a": 1, "b": "#) == ["a": 1])
        #expect(LenientJSONReader.partial(#"{"a": {"b": [1, {"c": "x"#) == ["a": ["b": [1, ["c": "x"]]]])
        #expect(LenientJSONReader.partial("[") == [])
        #expect(LenientJSONReader.partial(#"{"n": nu"#) == ["n": nil])
        #expect(LenientJSONReader.partial("") == nil)
    }

    @Test func partialKeepsWhatArrivedBeforeANegativeNumber() {
        let value = LenientJSONReader.partial(#"{"a": 1, "b": -"#)
        #expect(value == ["a": 1])
    }
}

@Suite struct OutputParserRegressionTests {
    @Test func functionWrapperKeepsItsID() {
        let text = #"{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}"#
        let calls = OutputParser().toolCalls(in: text)
        #expect(calls.map(\.id) == ["call_1"])
        #expect(calls.first?.arguments == ["a": 1])
    }

    @Test func fencedBlocksWithCRLFLineEndings() {
        let text = "Calling:\r\n```json\r\n{\"name\": \"f\", \"arguments\": {\"x\": 2}}\r\n```\r\n"
        #expect(OutputParser().toolCalls(in: text).map(\.name) == ["f"])
    }

    @Test func bareNameObjectInProseIsDataNotACall() {
        #expect(OutputParser().toolCalls(in: #"The user is {"name": "Bob"} as far as I know."#).isEmpty)
    }
}
