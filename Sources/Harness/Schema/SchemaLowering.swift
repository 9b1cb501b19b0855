//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// The JSON Schema subset a provider accepts.
public enum SchemaDialect: String, Sendable, Hashable, CaseIterable {
    /// OpenAI structured outputs with `strict: true`: every object closed
    /// (`additionalProperties: false`), every property required (optional ones nullable),
    /// a limited set of keywords.
    case openAIStrict
    /// OpenAI without strict mode: JSON Schema as given.
    case openAI
    /// Anthropic tool `input_schema`: JSON Schema, references allowed.
    case anthropic
    /// Gemini `responseSchema`/function declarations: an OpenAPI subset — no `$ref`, no
    /// `additionalProperties`, `nullable` instead of `null` in `type`, no `const`/`oneOf`.
    case gemini
    /// AWS Bedrock Converse tool `inputSchema.json`: JSON Schema with references inlined.
    case bedrock
}

/// A schema rewritten for a dialect, and what was changed.
public struct LoweredSchema: Sendable, Hashable {
    /// The schema to send.
    public var schema: JSONValue
    /// Each change, in words, with where it was made.
    public var changes: [String]
    /// False when a constraint the provider cannot enforce was moved into a description:
    /// the answer must then be checked with the original schema (the orchestrator does).
    public var isExact: Bool
}

/// Turns one schema into each provider's dialect.
///
/// ```swift
/// let lowered = SchemaLowering.lower(Weather.jsonSchema, for: .gemini)
/// lowered.changes // ["inlined $ref '#/$defs/Conditions' at /properties/conditions", …]
/// ```
public enum SchemaLowering {
    /// Rewrites `schema` for `dialect`. Never fails: what cannot be expressed is described
    /// (in `description`) and reported.
    public static func lower(_ schema: JSONValue, for dialect: SchemaDialect) -> LoweredSchema {
        var lowering = Lowering(root: schema, dialect: dialect)
        var result = schema
        if dialect == .gemini || dialect == .bedrock || dialect == .openAIStrict {
            result = lowering.inline(result, path: "", stack: [])
        }
        result = lowering.rewrite(result, path: "", required: true)
        return LoweredSchema(schema: result, changes: lowering.changes, isExact: lowering.exact)
    }

    struct Lowering {
        let root: JSONValue
        let dialect: SchemaDialect
        var changes: [String] = []
        var exact = true

        static let annotationsDropped: Set<String> = ["$schema", "$id", "$anchor", "$comment", "$dynamicAnchor"]

        /// Constraints each restricted dialect cannot enforce.
        var unsupported: Set<String> {
            switch dialect {
            case .openAIStrict:
                return [
                    "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
                    "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties",
                    "maxProperties", "patternProperties", "propertyNames", "unevaluatedProperties",
                    "unevaluatedItems", "if", "then", "else", "not", "dependentRequired", "dependentSchemas",
                    "contains", "minContains", "maxContains", "prefixItems",
                ]
            case .gemini:
                return [
                    "pattern", "multipleOf", "exclusiveMinimum", "exclusiveMaximum", "uniqueItems",
                    "patternProperties", "propertyNames", "unevaluatedProperties", "unevaluatedItems", "if",
                    "then", "else", "not", "dependentRequired", "dependentSchemas", "contains", "minContains",
                    "maxContains", "prefixItems", "additionalProperties", "minProperties", "maxProperties",
                ]
            case .openAI, .anthropic, .bedrock:
                return []
            }
        }

        // MARK: References

        /// Replaces local `$ref`s by their targets; a recursive reference is cut (to any value) and reported.
        mutating func inline(_ v: JSONValue, path: String, stack: [String]) -> JSONValue {
            switch v {
            case .object(var o):
                if let ref = o["$ref"]?.stringValue {
                    guard ref.hasPrefix("#"), let target = resolve(ref) else {
                        changes.append("kept the non-local $ref '\(ref)' at \(path.isEmpty ? "/" : path) (cannot inline)")
                        return v
                    }
                    if stack.contains(ref) {
                        changes.append("cut the recursive $ref '\(ref)' at \(path.isEmpty ? "/" : path): any value accepted there")
                        exact = false
                        return ["description": .string("(recursive: see \(ref))")]
                    }
                    changes.append("inlined $ref '\(ref)' at \(path.isEmpty ? "/" : path)")
                    o.removeValue(forKey: "$ref")
                    var inlined = inline(target, path: path, stack: stack + [ref])
                    if !o.isEmpty, case .object(var t) = inlined {
                        for (k, value) in o where k != "$defs" && k != "definitions" { t[k] = inline(value, path: path + "/" + k, stack: stack) }
                        inlined = .object(t)
                    }
                    return inlined
                }
                var out: [String: JSONValue] = [:]
                for (k, value) in o {
                    if k == "$defs" || k == "definitions" {
                        changes.append("removed \(k) at \(path.isEmpty ? "/" : path) (inlined where used)")
                        continue
                    }
                    out[k] = inline(value, path: path + "/" + k, stack: stack)
                }
                return .object(out)
            case .array(let items):
                return .array(items.enumerated().map { inline($1, path: path + "/\($0)", stack: stack) })
            default:
                return v
            }
        }

        func resolve(_ ref: String) -> JSONValue? {
            guard let tokens = SchemaURI.pointerTokens(SchemaURI.percentDecoded(String(ref.dropFirst()))) else { return nil }
            var v = root
            for t in tokens {
                if let next = v[t] { v = next } else if let i = Int(t), let next = v[i] { v = next } else { return nil }
            }
            return v
        }

        // MARK: Keywords

        mutating func rewrite(_ v: JSONValue, path: String, required: Bool) -> JSONValue {
            guard case .object(var o) = v else { return v }
            let at = path.isEmpty ? "/" : path
            for key in Self.annotationsDropped where o[key] != nil {
                o.removeValue(forKey: key)
                if dialect != .openAI { changes.append("removed \(key) at \(at)") }
            }
            // Subschemas first.
            if let props = o["properties"]?.objectValue {
                let requiredNames = Set(o["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                var out: [String: JSONValue] = [:]
                for (name, sub) in props {
                    out[name] = rewrite(sub, path: path + "/properties/" + name, required: requiredNames.contains(name))
                }
                o["properties"] = .object(out)
            }
            for key in ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"] {
                if let sub = o[key], sub.objectValue != nil { o[key] = rewrite(sub, path: path + "/" + key, required: true) }
            }
            for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
                if let list = o[key]?.arrayValue {
                    o[key] = .array(list.enumerated().map { rewrite($1, path: path + "/\(key)/\($0)", required: true) })
                }
            }
            switch dialect {
            case .openAIStrict: strict(&o, at: at)
            case .gemini: gemini(&o, at: at)
            case .openAI, .anthropic, .bedrock: break
            }
            moveUnsupported(&o, at: at)
            return .object(o)
        }

        mutating func moveUnsupported(_ o: inout [String: JSONValue], at: String) {
            let moved = unsupported.filter { o[$0] != nil }.sorted()
            guard !moved.isEmpty else { return }
            var notes: [String] = []
            for key in moved {
                if let value = o.removeValue(forKey: key), value.objectValue == nil, value.arrayValue == nil {
                    notes.append("\(key) \(value.canonicalString)")
                } else {
                    notes.append(key)
                }
            }
            let note = "Constraints: " + notes.joined(separator: ", ") + "."
            let description = o["description"]?.stringValue
            o["description"] = .string(description.map { $0 + " " + note } ?? note)
            changes.append("moved \(moved.joined(separator: ", ")) into the description at \(at) (checked by Harness after the answer)")
            exact = false
        }

        /// OpenAI strict: objects closed, every property required, optional ones nullable.
        mutating func strict(_ o: inout [String: JSONValue], at: String) {
            if o["oneOf"] != nil, o["anyOf"] == nil {
                o["anyOf"] = o.removeValue(forKey: "oneOf")
                changes.append("replaced oneOf by anyOf at \(at)")
                exact = false
            }
            guard let props = o["properties"]?.objectValue else { return }
            let required = Set(o["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            var out = props
            for (name, sub) in props where !required.contains(name) {
                out[name] = Self.nullable(sub)
                changes.append("made the optional property '\(name)' required and nullable at \(at)")
            }
            o["properties"] = .object(out)
            o["required"] = .array(props.keys.sorted().map(JSONValue.string))
            if o["additionalProperties"] != .bool(false) {
                if o["additionalProperties"] != nil { exact = false }
                o["additionalProperties"] = false
                changes.append("set additionalProperties: false at \(at)")
            }
        }

        static func nullable(_ schema: JSONValue) -> JSONValue {
            guard case .object(var o) = schema else { return schema }
            switch o["type"] {
            case .string(let t) where t != "null":
                o["type"] = [.string(t), "null"]
                if let e = o["enum"]?.arrayValue, !e.contains(.null) { o["enum"] = .array(e + [.null]) }
                return .object(o)
            case .array(let types):
                if !types.contains("null") { o["type"] = .array(types + ["null"]) }
                return .object(o)
            default:
                return ["anyOf": [schema, ["type": "null"]]]
            }
        }

        /// Gemini: OpenAPI-style `nullable`, no `const`, `anyOf` for `oneOf`.
        mutating func gemini(_ o: inout [String: JSONValue], at: String) {
            if case .array(let types) = o["type"] {
                let rest = types.filter { $0 != "null" }
                if rest.count < types.count { o["nullable"] = true }
                if rest.count == 1 {
                    o["type"] = rest[0]
                    changes.append("wrote type \(JSONValue.array(types).canonicalString) as nullable at \(at)")
                } else {
                    o.removeValue(forKey: "type")
                    o["anyOf"] = .array(rest.map { ["type": $0] })
                    changes.append("wrote type \(JSONValue.array(types).canonicalString) as anyOf at \(at)")
                }
            }
            if let c = o.removeValue(forKey: "const") {
                o["enum"] = [c]
                changes.append("wrote const as a one-value enum at \(at)")
            }
            if o["oneOf"] != nil, o["anyOf"] == nil {
                o["anyOf"] = o.removeValue(forKey: "oneOf")
                changes.append("replaced oneOf by anyOf at \(at)")
                exact = false
            }
            if o["allOf"] != nil {
                // Gemini has no allOf: merge object members where possible.
                if let parts = o["allOf"]?.arrayValue, parts.allSatisfy({ $0.objectValue != nil }) {
                    o.removeValue(forKey: "allOf")
                    var props = o["properties"]?.objectValue ?? [:]
                    var required = o["required"]?.arrayValue ?? []
                    for part in parts {
                        for (k, v) in part["properties"]?.objectValue ?? [:] { props[k] = v }
                        required += part["required"]?.arrayValue ?? []
                        if o["type"] == nil, let t = part["type"] { o["type"] = t }
                    }
                    if !props.isEmpty { o["properties"] = .object(props) }
                    if !required.isEmpty { o["required"] = .array(required) }
                    changes.append("merged allOf into one schema at \(at)")
                    exact = false
                }
            }
        }
    }
}
