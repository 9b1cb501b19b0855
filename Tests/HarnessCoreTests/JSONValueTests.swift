//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
import Testing

@Suite struct JSONValueParsingTests {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONValue(parsing: """
             {"n": null, "t": true, "f": false, "i": -42, "d": 2.5, "e": 1E3, "z": -0,
              "s": "hi", "a": [1, [], {}], "o": {"k": "v"}}\t\r
            """)
        #expect(v["n"]?.isNull == true)
        #expect(v["t"] == .bool(true))
        #expect(v["f"]?.boolValue == false)
        #expect(v["s"]?.stringValue == "hi")
        #expect(v["a"] == .array([.integer(1), .array([]), .object([:])]))
        #expect(v["o"] == .object(["k": .string("v")]))
        #expect(v.objectValue?.count == 10)

        // Integers stay integers; fractions and exponents make floating-point numbers.
        guard case .integer(-42)? = v["i"] else {
            Issue.record("-42 should parse as an integer, got \(String(describing: v["i"]))")
            return
        }
        guard case .integer(0)? = v["z"] else {
            Issue.record("-0 should parse as the integer 0, got \(String(describing: v["z"]))")
            return
        }
        guard case .number(let d)? = v["d"], d == 2.5 else {
            Issue.record("2.5 should parse as a number, got \(String(describing: v["d"]))")
            return
        }
        guard case .number(let e)? = v["e"], e == 1000 else {
            Issue.record("1E3 should parse as the number 1000, got \(String(describing: v["e"]))")
            return
        }
    }

    @Test func parsesTopLevelScalars() throws {
        #expect(try JSONValue(parsing: "true") == .bool(true))
        #expect(try JSONValue(parsing: " null ") == .null)
        #expect(try JSONValue(parsing: "\"x\"") == .string("x"))
        #expect(try JSONValue(parsing: "\n3\n") == .integer(3))
        #expect(try JSONValue(parsing: "-1.5e-3") == .number(-0.0015))
        #expect(try JSONValue(parsing: "9223372036854775807") == .integer(Int.max))
        #expect(try JSONValue(parsing: "-9223372036854775808") == .integer(Int.min))
        // Too large for Int: kept as a floating-point number rather than refused.
        guard case .number(let big) = try JSONValue(parsing: "123456789012345678901234567890") else {
            Issue.record("a 30-digit integer should become a floating-point number")
            return
        }
        #expect(big > 1e29 && big < 1.3e29)
    }

    @Test func decodesEscapes() throws {
        #expect(try JSONValue(parsing: #""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try JSONValue(parsing: #""caf\u00e9 \u0041""#) == .string("caf\u{E9} A"))
        #expect(try JSONValue(parsing: #""\u00E9""#) == .string("\u{E9}"))
        #expect(try JSONValue(parsing: #""\u0000""#) == .string("\u{0}"))
        // Raw UTF-8 passes through unchanged.
        #expect(try JSONValue(parsing: "\"h\u{E9}llo \u{1F600}\"") == .string("h\u{E9}llo \u{1F600}"))
    }

    @Test func decodesSurrogatePairsAndReplacesLoneSurrogates() throws {
        #expect(try JSONValue(parsing: #""\ud83d\ude00""#) == .string("\u{1F600}"))
        #expect(try JSONValue(parsing: #""\uD83D\uDE00!""#) == .string("\u{1F600}!"))
        #expect(try JSONValue(parsing: #""a\uD834\uDD1Eb""#) == .string("a\u{1D11E}b"))
        // A lone high surrogate, a lone low one, and a high one followed by a non-surrogate.
        #expect(try JSONValue(parsing: #""\ud83d x""#) == .string("\u{FFFD} x"))
        #expect(try JSONValue(parsing: #""\ude00""#) == .string("\u{FFFD}"))
        #expect(try JSONValue(parsing: #""\ud83d\u0041""#) == .string("\u{FFFD}A"))
    }

    @Test func loneHighSurrogateDoesNotSwallowTheValidPairAfterIt() throws {
        let value = try JSONValue(parsing: #""\ud800\ud83d\ude00""#)
        #expect(value == .string("\u{FFFD}\u{1F600}"))
    }

    @Test func parsesBytesAndReplacesInvalidUTF8() throws {
        #expect(try JSONValue(parsingBytes: Array("[1, \"a\"]".utf8)) == .array([.integer(1), .string("a")]))
        let invalid: [UInt8] = [0x22, 0xFF, 0x22]
        #expect(try JSONValue(parsingBytes: invalid) == .string("\u{FFFD}"))
    }

    @Test func rejectsInvalidJSONNamingTheByteOffset() {
        let cases: [(text: String, offset: Int)] = [
            ("", 0),
            ("   ", 3),
            ("[1, 2,]", 6),  // trailing comma in an array
            ("[1,]", 3),
            (#"{"a": 1,}"#, 8),  // trailing comma in an object
            (#"{"a": [1, 2"#, 11),  // truncated
            (#""abc"#, 4),  // unterminated string
            (#"{"a": "#, 6),
            ("tru", 0),  // truncated literal
            (#"{'a': 1}"#, 1),  // single quotes
            ("'a'", 0),
            ("01", 1),  // leading zero
            ("-01", 2),
            ("[00]", 2),
            (#"{"a": 1} x"#, 9),  // trailing garbage
            ("true false", 5),
            ("truex", 4),
            ("[1 2]", 3),
            (#"{"a" 1}"#, 5),
            ("{a: 1}", 1),  // unquoted key
            ("1.", 2),
            ("1e", 2),
            ("-", 1),
            ("+1", 0),
            (".5", 0),
            ("NaN", 0),
            (#"{"a": 1 // c"#, 8),  // comments
            (#""\x""#, 2),  // invalid escape
            ("\"a\nb\"", 2),  // raw control character in a string
            (#""\u12""#, 3),  // truncated \u escape
            ("[\"\u{E9}\", ]", 7),  // offsets count UTF-8 bytes, not characters
        ]
        for c in cases {
            let error = #expect(throws: JSONParseError.self, "\(c.text.debugDescription) should be refused") {
                try JSONValue(parsing: c.text)
            }
            #expect(error?.offset == c.offset, "\(c.text.debugDescription): \(String(describing: error))")
        }
    }

    @Test func parseErrorDescribesTheOffset() {
        let error = #expect(throws: JSONParseError.self) { try JSONValue(parsing: "[1, 2,]") }
        #expect(error?.description.contains("byte 6") == true)
        #expect(error?.message.isEmpty == false)
    }

    @Test func deepNestingIsRefusedWithoutCrashing() {
        let deep = String(repeating: "[", count: 10_000)
        let error = #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        // The 513th bracket (at byte 512) is one level too deep for the default limit.
        #expect(error?.offset == 512)

        let balanced = deep + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: balanced) }
        let objects = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: objects) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsingBytes: Array(balanced.utf8)) }

        // Exactly the limit is fine; one more is not.
        let atDefaultLimit = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect((try? JSONValue(parsing: atDefaultLimit)) != nil)
        let eight = String(repeating: "[", count: 8) + String(repeating: "]", count: 8)
        let nine = String(repeating: "[", count: 9) + String(repeating: "]", count: 9)
        #expect((try? JSONValue(parsing: eight, maxDepth: 8)) != nil)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: nine, maxDepth: 8) }
    }
}

@Suite struct JSONValueSemanticsTests {
    @Test func integerAndDoubleDenotingTheSameNumberAreEqualAndHashAlike() throws {
        #expect(JSONValue.integer(1) == .number(1.0))
        #expect(JSONValue.number(1.0) == .integer(1))
        #expect(JSONValue.integer(1).hashValue == JSONValue.number(1.0).hashValue)
        #expect(Set<JSONValue>([.integer(1), .number(1.0)]).count == 1)
        let one = try JSONValue(parsing: "1")
        let oneDotZero = try JSONValue(parsing: "1.0")
        let hundred = try JSONValue(parsing: "100")
        let oneE2 = try JSONValue(parsing: "1e2")
        #expect(one == oneDotZero)
        #expect(hundred == oneE2)

        #expect(JSONValue.integer(1) != .number(1.5))
        #expect(JSONValue.integer(1) != .string("1"))
        #expect(JSONValue.bool(true) != .integer(1))
        #expect(JSONValue.null != .bool(false))
        #expect(JSONValue.array([]) != .object([:]))

        // Equality and hashing reach into containers, and object key order does not matter.
        let a: JSONValue = ["x": [1, 2.0], "y": ["z": 3]]
        let b: JSONValue = ["y": ["z": 3.0], "x": [1.0, 2]]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["x": [2, 1], "y": ["z": 3]])
    }

    @Test func accessorsReadTheRightKinds() {
        let v: JSONValue = ["i": 3, "d": 3.0, "f": 3.5, "s": "x", "a": [true], "n": nil]
        #expect(v["i"]?.intValue == 3)
        #expect(v["d"]?.intValue == 3)
        #expect(v["f"]?.intValue == nil)
        #expect(v["f"]?.doubleValue == 3.5)
        #expect(v["s"]?.intValue == nil)
        #expect(v["a"]?[0]?.boolValue == true)
        #expect(v["a"]?[1] == nil)
        #expect(v["missing"] == nil)
        #expect(v["n"]?.isNull == true)
        #expect(v["d"]?.typeName == "integer")
        #expect(v["f"]?.typeName == "number")
        #expect(v.typeName == "object")
    }

    @Test func canonicalStringSortsKeysByBytesAndWritesIntegralNumbersWithoutFraction() {
        let v: JSONValue = ["b": 1.0, "a": [2.5, "x", nil, true], "B": ["\u{E9}": 1, "z": -0.5]]
        #expect(v.canonicalString == #"{"B":{"z":-0.5,"\#u{E9}":1},"a":[2.5,"x",null,true],"b":1}"#)
        #expect(v.description == v.canonicalString)
        #expect(String(decoding: v.canonicalBytes, as: UTF8.self) == v.canonicalString)

        #expect(JSONValue.number(1.0).canonicalString == "1")
        #expect(JSONValue.number(-3.0).canonicalString == "-3")
        #expect(JSONValue.integer(1).canonicalString == JSONValue.number(1.0).canonicalString)
        #expect(JSONValue.number(.nan).canonicalString == "null")
        #expect(JSONValue.number(.infinity).canonicalString == "null")
        #expect(JSONValue.object([:]).canonicalString == "{}")
        #expect(JSONValue.array([]).canonicalString == "[]")
        #expect(JSONValue.string("a\"b\\c\nd\u{01}").canonicalString == #""a\"b\\c\nd\u0001""#)
        #expect(JSONValue.quoted("x\"y") == #""x\"y""#)

        // Equal values have the same text whatever order their keys were written in.
        let one: JSONValue = ["x": 1, "y": [1.0, ["k": "v"]]]
        let two: JSONValue = ["y": [1, ["k": "v"]], "x": 1.0]
        #expect(one.canonicalString == two.canonicalString)
    }

    @Test func stringsAreEscapedExactlyWhereJSONRequires() throws {
        #expect(JSONValue.quoted("") == #""""#)
        #expect(JSONValue.quoted("plain text, é and 🎉") == "\"plain text, é and 🎉\"")
        #expect(JSONValue.quoted("a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}") == #""a\"b\\c\nd\re\tf\bg\fh\u0001i\u001f""#)
        #expect(JSONValue.quoted("\"\"") == #""\"\"""#)
        #expect(JSONValue.quoted("end\\") == #""end\\""#)
        for text in ["", "x", "\u{0}", "tab\there", "\\\"\n", String(repeating: "ab\"", count: 50), "🎉\u{7f}"] {
            #expect(try JSONValue(parsing: JSONValue.quoted(text)) == .string(text))
        }
    }

    @Test func canonicalTextParsesBackToAnEqualValue() throws {
        let values: [JSONValue] = [
            nil, true, false, 0, -17, .integer(Int.max), .integer(Int.min),
            0.1, -2.5e-8, 1e20, 123_456.789, .number(-0.0),
            "", "plain", "quotes \" and \\ and /", "controls \u{0}\u{1F}\n\t\r", "\u{E9}\u{1F600}\u{FFFD}",
            [], [:], [1, [2, [3, ["deep": [nil]]]]],
            ["tool": "get_weather", "args": ["city": "Paris", "days": 3, "units": nil, "ratio": 0.25]],
        ]
        for v in values {
            let text = v.canonicalString
            let parsed = try JSONValue(parsing: text)
            #expect(parsed == v, "\(text)")
            #expect(parsed.canonicalString == text)
        }
    }

    @Test func codableRoundTripThroughFoundation() throws {
        let v: JSONValue = [
            "s": "x \u{1F600}", "i": 42, "d": 2.5, "b": false, "n": nil,
            "a": [1, "two", [3], ["four": 4]], "o": ["k": true],
        ]
        let data = try JSONEncoder().encode(v)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == v)
        // What Foundation wrote is strict JSON.
        #expect(try JSONValue(parsingBytes: data) == v)
        // And Foundation reads our canonical text.
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(v.canonicalString.utf8)) == v)

        let message = Message.assistant("hi", toolCalls: [ToolCall(id: "c1", name: "f", arguments: ["x": 1, "y": [nil]])])
        let encodedMessage = try JSONEncoder().encode(message)
        #expect(try JSONDecoder().decode(Message.self, from: encodedMessage) == message)

        let request = ModelRequest(
            model: "m", system: "s", messages: [.user("q"), message],
            tools: [ToolSpec(name: "f", description: "d", inputSchema: ["type": "object"])],
            toolChoice: .tool("f"),
            responseFormat: .jsonSchema(name: "out", schema: ["type": "object"], strict: true),
            options: GenerationOptions(temperature: 0.2, stopSequences: ["END"]),
            metadata: ["tenant": "t"]
        )
        let encodedRequest = try JSONEncoder().encode(request)
        #expect(try JSONDecoder().decode(ModelRequest.self, from: encodedRequest) == request)
    }
}

@Suite struct ToolCallAndStreamTests {
    @Test func rawArgumentsAreParsedStrictly() {
        let ok = ToolCall(id: "1", name: "f", rawArguments: #"{"city": "Paris", "days": 3}"#)
        #expect(ok.arguments == ["city": "Paris", "days": 3])
        #expect(ok.rawArguments == #"{"city": "Paris", "days": 3}"#)

        // No argument text means no arguments.
        #expect(ToolCall(id: "2", name: "f", rawArguments: "").arguments == [:])

        let invalid = [
            #"{"city": "Paris",}"#, #"{'city': 'Paris'}"#, #"{"city": "Par"#, "{city: 1}",
            "not json", #"{"a": 1} extra"#, #"{"a": True}"#, "{",
        ]
        for raw in invalid {
            let call = ToolCall(id: "3", name: "f", rawArguments: raw)
            #expect(call.arguments == nil, "\(raw) must not yield arguments")
            #expect(call.rawArguments == raw)
        }
    }

    @Test func parsedArgumentsAreWrittenCanonically() {
        let built = ToolCall(id: "4", name: "f", arguments: ["b": 2, "a": 1.0])
        #expect(built.rawArguments == #"{"a":1,"b":2}"#)
        #expect(ToolCall(id: "4", name: "f", rawArguments: built.rawArguments) == built)
    }

    @Test func accumulatorReportsStartedButUncompletedToolCalls() {
        var accumulator = ModelStreamAccumulator()
        let done = ToolCall(id: "c2", name: "g", arguments: ["x": 1])
        accumulator.add(.textDelta("Hel"))
        accumulator.add(.textDelta("lo"))
        accumulator.add(.toolCallStart(id: "c1", name: "f"))
        accumulator.add(.toolCallArgumentsDelta(id: "c1", delta: #"{"path": "/imp"#))
        accumulator.add(.toolCallStart(id: "c2", name: "g"))
        accumulator.add(.toolCallArgumentsDelta(id: "c2", delta: done.rawArguments))
        accumulator.add(.toolCallComplete(done))

        #expect(accumulator.text == "Hello")
        #expect(accumulator.incompleteToolCallIDs == ["c1"])
        #expect(accumulator.toolCalls == [done])
        #expect(accumulator.response.message.toolCalls == [done])
        #expect(accumulator.finishReason == nil)
        #expect(accumulator.response.finishReason == .other("incomplete"))

        accumulator.add(.usage(Usage(inputTokens: 3, outputTokens: 4)))
        accumulator.add(.finish(.toolCalls, requestID: "req_1"))
        #expect(accumulator.response.finishReason == .toolCalls)
        #expect(accumulator.requestID == "req_1")
        #expect(accumulator.usage.totalTokens == 7)
        // Finishing does not complete the cut-off call.
        #expect(accumulator.incompleteToolCallIDs == ["c1"])
    }

    @Test func streamEventsOfAResponseRebuildIt() {
        let response = ModelResponse(
            message: .assistant("Hello, world \u{1F600}", toolCalls: [ToolCall(id: "c1", name: "f", arguments: ["q": "x"])]),
            finishReason: .toolCalls,
            usage: Usage(inputTokens: 5, outputTokens: 6),
            requestID: "r"
        )
        for chunkSize in [nil, 1, 3, 100] {
            let events = response.streamEvents(chunkSize: chunkSize)
            var accumulator = ModelStreamAccumulator()
            for event in events { accumulator.add(event) }
            #expect(accumulator.response == response, "chunk size \(String(describing: chunkSize))")
            #expect(accumulator.incompleteToolCallIDs.isEmpty)
            #expect(events.last == .finish(.toolCalls, requestID: "r"))
        }
    }

    @Test func eventStreamDeliversItsEventsThenItsError() async {
        let stream = ModelEventStream(events: [.textDelta("a"), .textDelta("b")], error: HarnessError(.modelError, "reset"))
        var seen: [ModelStreamEvent] = []
        do {
            for try await event in stream { seen.append(event) }
            Issue.record("the stream should have thrown")
        } catch {
            #expect((error as? HarnessError)?.code == .modelError)
        }
        #expect(seen == [.textDelta("a"), .textDelta("b")])
    }

    @Test func defaultCompleteRefusesACutOffToolCallOrAMissingFinish() async throws {
        let request = ModelRequest(model: "m", messages: [.user("hi")])
        let cutOff = EventReplayModel(events: [
            .textDelta("Let me "),
            .toolCallStart(id: "c1", name: "delete"),
            .toolCallArgumentsDelta(id: "c1", delta: #"{"path": "/imp"#),
            .finish(.toolCalls, requestID: nil),
        ])
        let error = await #expect(throws: HarnessError.self) { try await cutOff.complete(request) }
        #expect(error?.code == .modelError)

        let unfinished = EventReplayModel(events: [.textDelta("partial")])
        await #expect(throws: HarnessError.self) { try await unfinished.complete(request) }

        let whole = EventReplayModel(events: [.textDelta("ok"), .finish(.stop, requestID: "r")])
        let response = try await whole.complete(request)
        #expect(response.message.text == "ok")
        #expect(response.finishReason == .stop)
        #expect(response.requestID == "r")
    }
}

/// A model that replays fixed events, to exercise the default `complete(_:)`.
struct EventReplayModel: LanguageModel {
    let events: [ModelStreamEvent]

    func stream(_ request: ModelRequest) -> ModelEventStream {
        ModelEventStream(events: events)
    }
}

@Suite struct JSONValueNumberEqualityTests {
    @Test func integerAndDoubleEqualityIsExactAbove2To53() {
        let big = 1 << 53
        #expect(JSONValue.number(Double(big)) == .integer(big))
        #expect(JSONValue.number(Double(big)) != .integer(big + 1))
        #expect(JSONValue.integer(1) == .number(1.0))
        #expect(JSONValue.integer(1) != .number(1.5))
    }
}

@Suite struct ContentPartCodingTests {
    @Test func contentPartsEncodeAsTaggedObjectsAndRoundTrip() throws {
        let message = Message(role: .assistant, content: [
            .text("hi"), .toolCall(ToolCall(id: "c", name: "f", arguments: ["a": 1])),
            .toolResult(ToolResult(toolCallID: "c", name: "f", content: "ok")), .image(ImageContent(url: "https://x/y.png")),
        ])
        let data = try JSONEncoder().encode(message)
        let json = try JSONValue(parsingBytes: data)
        #expect(json["content"]?[0] == ["type": "text", "text": "hi"])
        #expect(json["content"]?[1]?["type"] == "tool_call")
        #expect(json["content"]?[1]?["tool_call"]?["name"] == "f")
        #expect(try JSONDecoder().decode(Message.self, from: data) == message)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ContentPart.self, from: Data(#"{"type":"video"}"#.utf8)) }
    }
}
