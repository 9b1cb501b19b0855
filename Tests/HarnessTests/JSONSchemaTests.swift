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

@Suite struct JSONSchemaTests {
    @Test func errorsCarryInstanceAndSchemaPaths() throws {
        let schema = try JSONSchema([
            "type": "object",
            "properties": [
                "name": ["type": "string", "maxLength": 3],
                "tags": ["type": "array", "items": ["$ref": "#/$defs/tag"]],
            ],
            "required": ["name", "id"],
            "$defs": ["tag": ["type": "string", "enum": ["a", "b"]]],
        ])
        let result = schema.validate(["name": "Ünïcode", "tags": ["a", "z", 3]])
        let byPath = Dictionary(grouping: result.errors, by: \.instancePath)
        #expect(byPath[""]?.contains { $0.keyword == "required" && $0.message.contains("'id'") } == true)
        #expect(byPath["/name"]?.first?.keyword == "maxLength")
        #expect(byPath["/tags/1"]?.first?.schemaPath == "#/$defs/tag/enum")
        #expect(byPath["/tags/2"]?.contains { $0.keyword == "type" } == true)
        #expect(result.report.contains("/tags/1"))
        #expect(!schema.isValid(["name": "Ünïcode"]))
    }

    @Test func lengthCountsCodePoints() throws {
        let schema = try JSONSchema(["maxLength": 2])
        #expect(schema.isValid("💩💩"))  // 2 code points, 8 UTF-8 bytes
        #expect(!schema.isValid("abc"))
    }

    @Test func constUsesJSONNumberEquality() throws {
        #expect(try JSONSchema(["const": 1]).isValid(1.0))
        #expect(try JSONSchema(["enum": [1.5, "x"]]).isValid(1.5))
        #expect(!(try JSONSchema(["const": false]).isValid(0)))
    }

    @Test func formatIsAnAnnotationUnlessAsserted() throws {
        let annotation = try JSONSchema(["format": "email"])
        let assertion = try JSONSchema(["format": "email"], options: .init(formatAssertion: true))
        #expect(annotation.isValid("not an email"))
        #expect(!assertion.isValid("not an email"))
        #expect(assertion.isValid("a@example.com"))
    }

    @Test func badSchemasAreReportedWithTheirPath() {
        #expect(throws: SchemaError.self) { try JSONSchema(["$ref": "#/$defs/missing"]) }
        #expect(throws: SchemaError.self) { try JSONSchema(["pattern": "(unclosed"]) }
        #expect(throws: SchemaError.self) { try JSONSchema(["minLength": -1]) }
        #expect(throws: SchemaError.self) { try JSONSchema(["$ref": "http://example.com/remote.json"]) }
        do {
            _ = try JSONSchema(["properties": ["a": ["pattern": "(x"]]])
        } catch let error as SchemaError {
            #expect(error.schemaPath == "#/properties/a/pattern")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func selfReferenceWithoutProgressFailsInsteadOfLooping() throws {
        let schema = try JSONSchema(["$ref": "#"])
        #expect(!schema.isValid(1))
        let viaAllOf = try JSONSchema(["allOf": [["$ref": "#"]]])
        #expect(viaAllOf.validate(["a": 1]).errors.contains { $0.message.contains("recurses") })
        // Recursion that descends into the instance is fine.
        let tree = try JSONSchema(["type": "object", "properties": ["child": ["$ref": "#"]]])
        #expect(tree.isValid(["child": ["child": ["child": [:]]]]))
    }

    @Test func compiledSchemasAreCached() throws {
        let s: JSONValue = ["type": "object", "required": ["x"]]
        let a = try JSONSchema.cached(s)
        let b = try JSONSchema.cached(["required": ["x"], "type": "object"])  // same canonical text
        #expect(a.schema == b.schema)
        #expect(!a.isValid([:]))
    }

    /// Random and truncated schemas and instances never crash the compiler or the validator.
    @Test func randomAndTruncatedSchemasNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5C4E_3A)
        let keywords = [
            "type", "properties", "items", "prefixItems", "required", "enum", "const", "minimum", "maximum",
            "exclusiveMinimum", "multipleOf", "minLength", "maxLength", "pattern", "allOf", "anyOf", "oneOf",
            "not", "if", "then", "else", "$ref", "$defs", "additionalProperties", "unevaluatedProperties",
            "unevaluatedItems", "contains", "minContains", "maxContains", "dependentSchemas",
            "dependentRequired", "propertyNames", "patternProperties", "uniqueItems", "$id", "$anchor",
            "$dynamicRef", "$dynamicAnchor", "format", "minItems", "maxProperties",
        ]
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .integer(Int.random(in: -3...10, using: &rng))
            case 3: return .number(Double.random(in: -2...2, using: &rng))
            case 4: return .string(["", "a", "#", "#/$defs/x", "#/properties/a", "x*", "(", "[a-", "string", "object", "é"].randomElement(using: &rng) ?? "")
            case 5: return .string(["integer", "array", "#foo", "http://x/y", "^a", "number"].randomElement(using: &rng) ?? "")
            case 6: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in value(depth + 1) })
            default: return schema(depth + 1)
            }
        }
        func schema(_ depth: Int) -> JSONValue {
            if Int.random(in: 0..<8, using: &rng) == 0 { return .bool(Bool.random(using: &rng)) }
            var o: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                let key = keywords.randomElement(using: &rng) ?? "type"
                switch key {
                case "properties", "$defs", "dependentSchemas", "patternProperties":
                    o[key] = .object(["a": depth < 4 ? schema(depth + 1) : true, "x": value(depth + 1)])
                default:
                    o[key] = value(depth)
                }
            }
            return .object(o)
        }
        var compiled = 0
        for i in 0..<3_000 {
            let s = schema(0)
            let instance = value(0)
            if let validator = try? JSONSchema(s) {
                compiled += 1
                let full = validator.validate(instance)
                #expect(full.isValid == validator.isValid(instance), "fast and full paths disagree on case \(i)")
            }
            // Truncated schema text: parse what survives (strictly or repaired), then compile.
            let text = s.canonicalString
            let cut = text.prefix(Int.random(in: 0...text.count, using: &rng))
            if let partial = LenientJSONReader.partial(String(cut)) {
                _ = try? JSONSchema(partial).validate(instance)
            }
        }
        #expect(compiled > 500)  // the generator does reach real validation
    }
}

@Suite struct JSONSchemaFormatSuiteTests {
    @Test func optionalFormatWithAssertion() throws {
        let outcome = try SchemaSuite.run(folder: "draft2020-12/optional/format", draft: .draft2020_12, formatAssertion: true)
        print("JSON-Schema-Test-Suite draft2020-12 optional/format (assertion on): \(outcome.passed)/\(outcome.total) passed, \(outcome.failed.count) failed, \(outcome.skipped) skipped")
        for failure in outcome.failed { print("  FAIL \(failure)") }
        #expect(outcome.total >= 764)
        #expect(outcome.failed.isEmpty)
    }
}

@Suite struct PatternMatchingTests {
    /// The fast matcher agrees with the full regex engine on the patterns it accepts.
    @Test func simplePatternsAgreeWithTheFullEngine() throws {
        let patterns = [
            "^[A-Z]{3}-[0-9]{4}$", "^[0-9]{5}$", "^ord_[a-z0-9]{8}$", "a+b", "^a*$", "x?y", "[^abc]", "^\\d{2,4}$",
            "\\w+@\\w+", "^.{3}$", "^[a-c-]+$", "b{2,}", "^\\s*$", "[.]", "\\.", "^[\\-a]$", "é+", "^[A-Za-z_][A-Za-z0-9_]*$",
        ]
        var rng = SplitMix64(seed: 99)
        let alphabet = Array("abcxyzABCZ0123456789-_.@ é\t")
        for pattern in patterns {
            #expect(SimplePatternProbe.accepts(pattern), "\(pattern) should take the fast path")
            let schema = try JSONSchema(["pattern": .string(pattern)])
            let reference = try JSONSchema(["pattern": .string("(?:" + pattern + ")")])  // a group forces the full engine
            // ICU's \w, \d and \s are Unicode-aware; ECMA-262's (what JSON Schema specifies, and
            // the fast path implements) are ASCII: compare those on ASCII text only.
            let shorthand = pattern.contains("\\w") || pattern.contains("\\d") || pattern.contains("\\s")
            let letters = shorthand ? alphabet.filter(\.isASCII) : alphabet
            for _ in 0..<400 {
                let length = Int.random(in: 0...9, using: &rng)
                let s = String((0..<length).map { _ in letters.randomElement(using: &rng) ?? "a" })
                #expect(schema.isValid(.string(s)) == reference.isValid(.string(s)), "pattern \(pattern) on \(s.debugDescription)")
            }
        }
        // ECMA-262 semantics: \w is [A-Za-z0-9_], so "é" is not a word character.
        #expect(!(try JSONSchema(["pattern": "^\\w$"]).isValid("é")))
        #expect(SimplePatternProbe.accepts("(a|b)") == false)
        #expect(SimplePatternProbe.accepts("a(?=b)") == false)
    }
}
